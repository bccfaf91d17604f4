"""The workbench's CorDA network and training step in PyTorch, for `npm run bench` to compare against.

The network is the engine's own, layer for layer (scripts/corda_torch_net.py, checked against network.ts by
src/core/model/torchTwin.test.ts); the step does the same work as src/core/adapt/trainer.ts (source pass,
teacher pass, ClassMix pass, CE + BerHu losses, SGD, EMA). Prints one JSON line; a preset without a twin in this
checkout (`paper` until scripts/deeplabv2_corda.py lands) is listed under "missing".
Usage: python3 bench_torch.py PRESETS SIZES STEPS THREADS [cpu|cuda]
       python3 bench_torch.py predict PRESETS WxH IMAGES THREADS   (predict + difficulty per image, CPU, see below)
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

from corda_torch_net import build

NUM_CLASSES = 19


def berhu(pred, gt):
    valid = ((gt - 1).abs() > 1e-4).float()
    e = (pred - gt).abs() * valid
    c = (0.2 * e.max()).detach().clamp(min=1e-6)
    loss = e + F.relu(e - c) ** 2 / (2 * c)
    return (loss * valid).sum() / valid.sum().clamp(min=1)


def step(student, teacher, opt, xs, ys, ds, xt, dt):
    with torch.no_grad():
        probs = F.softmax(teacher(xt)["seg"], 1)
        conf, pseudo = probs.max(1)
        q = (conf >= 0.968).float().mean()
    m = (ys == 13).float()  # ClassMix mask (cost-equivalent stand-in for the random half of the classes)
    x_mix = m[:, None] * xs + (1 - m[:, None]) * xt
    y_mix = torch.where(m > 0.5, ys, pseudo)
    d_mix = m * ds + (1 - m) * dt
    w_mix = m + (1 - m) * q
    out_s = student(xs)
    loss = F.cross_entropy(out_s["seg"], ys, ignore_index=255) + F.cross_entropy(out_s["segInit"], ys, ignore_index=255)
    loss = loss + 0.01 * (berhu(out_s["depthSrc"][:, 0], ds) + berhu(out_s["depthSrcInit"][:, 0], ds))
    out_m = student(x_mix)
    with torch.no_grad():
        delta = (out_m["depthSrc"][:, 0] - out_m["depthTgt"][:, 0]).abs()
        s = F.relu(1 - delta / d_mix.clamp(min=1e-6)) + 0.001
        wd = (s + (1 - ((d_mix - 1).abs() > 1e-4).float())).clamp(0, 1)
        wd = wd / wd.mean((1, 2), keepdim=True)
    w = w_mix * wd
    ce = lambda logits: (F.cross_entropy(logits, y_mix, reduction="none", ignore_index=255) * w).mean()
    loss = loss + ce(out_m["seg"]) + ce(out_m["segInit"])
    mixd = lambda a, b: m * out_m[a][:, 0] + (1 - m) * out_m[b][:, 0]
    loss = loss + 0.001 * (berhu(mixd("depthSrc", "depthTgt"), d_mix) + berhu(mixd("depthSrcInit", "depthTgtInit"), d_mix))
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        for pt, ps in zip(teacher.parameters(), student.parameters()):
            pt.mul_(0.99).add_(ps, alpha=0.01)
    return loss.item()


def predict_and_difficulty(net, x, depth_target):
    """What the workbench computes per target image after a round (src/core/adapt/predict.ts): the inference
    network without the deep-supervision heads, softmax, the two best classes, the confidence, the entropy and the
    depth heads' disagreement relative to the depth target, read back as the app reads them."""
    h, w = x.shape[2:]
    up = lambda t: F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)  # noqa: E731
    f = net.encoder(x)
    fs, fd = net.sem(f), net.depth(f)
    fs2, fd2 = net.to_sem(fs, fd), net.to_depth(fd, fs)
    seg, depth_src, depth_tgt = up(net.seg(fs2)), up(net.depth_src(fd2))[:, 0], up(net.depth_tgt(fd2))[:, 0]
    probs = F.softmax(seg, 1)
    top = probs.topk(2, 1)
    entropy = -(probs * torch.log(probs + 1e-8)).sum(1) / math.log(NUM_CLASSES)
    s = (1 - (depth_src - depth_tgt).abs() / depth_target.clamp(min=1e-6)).clamp(0, 1)
    difficulty = (1 - s + entropy) / 2
    return [t.contiguous().numpy() for t in (top.indices.to(torch.uint8), top.values[:, 0], difficulty, depth_src, depth_tgt)]


def predict_main(presets, size, images, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    w, h = map(int, size.split("x"))
    rows = []
    for name in presets:
        if name == "paper":
            continue  # the workbench predicts paper in tfjs only (no ONNX graph yet); its twin is not timed here
        net = build(name).eval()
        x, depth_target = torch.rand(1, 3, h, w), torch.rand(1, h, w) * 50 + 2
        with torch.no_grad():
            predict_and_difficulty(net, x, depth_target)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(images):
                predict_and_difficulty(net, x, depth_target)
            wall, cpu = (time.perf_counter() - t0) * 1000 / images, (time.process_time() - c0) * 1000 / images
            rows.append(dict(preset=name, size=size, msPerImage=wall, cpuMsPerImage=cpu))
    print(json.dumps(dict(torch=torch.__version__, threads=threads, rows=rows)))


def main():
    if sys.argv[1] == "predict":
        return predict_main(sys.argv[2].split(","), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    presets, sizes, steps, threads = sys.argv[1].split(","), sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
    device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("this torch has no CUDA device; compare on the CPU (--torch-device cpu)")
    torch.set_num_threads(threads)
    # CUDA kernels run asynchronously: wait for them before reading the clock.
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    torch.manual_seed(1)
    rows, missing = [], []
    for name in presets:
        for size in sizes:
            w, h = map(int, size.split("x"))
            student, teacher = build(name), build(name)
            if student is None:
                missing.append(name)
                break
            student, teacher = student.to(device), teacher.to(device)
            teacher.load_state_dict(student.state_dict())
            opt = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            xs, xt = torch.rand(2, 3, h, w, device=device), torch.rand(2, 3, h, w, device=device)
            ys = torch.randint(0, NUM_CLASSES, (2, h, w), device=device)
            ds, dt = torch.rand(2, h, w, device=device) * 50 + 2, torch.rand(2, h, w, device=device) * 50 + 2
            for _ in range(2):
                step(student, teacher, opt, xs, ys, ds, xt, dt)
            sync()
            t0 = time.perf_counter()
            for _ in range(steps):
                step(student, teacher, opt, xs, ys, ds, xt, dt)
            sync()
            train_ms = (time.perf_counter() - t0) * 1000 / steps
            student.eval()
            with torch.no_grad():
                student(xt[:1])
                sync()
                t1 = time.perf_counter()
                for _ in range(max(2, min(10, steps))):
                    student(xt[:1])
                sync()
                infer_ms = (time.perf_counter() - t1) * 1000 / max(2, min(10, steps))
            rows.append(dict(preset=name, size=size, trainMsPerStep=train_ms, inferMsPerImage=infer_ms))
    print(json.dumps(dict(torch=torch.__version__, device=torch.cuda.get_device_name() if device == "cuda" else "cpu", threads=threads, rows=rows, missing=missing)))


if __name__ == "__main__":
    main()
