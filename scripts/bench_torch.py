"""The workbench's CorDA network and training step in PyTorch, for `npm run bench` to compare against.

Same layers, widths, heads and per-step work as src/core/model/network.ts and src/core/adapt/trainer.ts
(source pass, teacher pass, ClassMix pass, CE + BerHu losses, SGD, EMA). Prints one JSON line.
Usage: python3 bench_torch.py PRESETS SIZES STEPS THREADS [cpu|cuda]
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "tiny": dict(encoder=[16, 24, 32], blocks=1, branch=32, atrous=(1, 2)),
    "small": dict(encoder=[32, 48, 64, 96], blocks=1, branch=64, atrous=(2, 4)),
    "paper": dict(encoder=[64, 128, 256, 512], blocks=2, branch=256, atrous=(6, 12)),
}
NUM_CLASSES = 19


def conv(cin, cout, k, stride=1, bias=False, dilation=1):
    return nn.Conv2d(cin, cout, k, stride, padding=dilation * (k // 2), dilation=dilation, bias=bias)


class ConvBnRelu(nn.Sequential):
    def __init__(self, cin, cout, k, stride):
        super().__init__(conv(cin, cout, k, stride), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Residual(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = ConvBnRelu(cin, cout, 3, stride)
        self.b = nn.Sequential(conv(cout, cout, 3), nn.BatchNorm2d(cout))
        self.proj = None if stride == 1 and cin == cout else nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.b(self.a(x)) + (x if self.proj is None else self.proj(x)))


class Distil(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.msg = conv(c, c, 3)
        self.gate = conv(c, c, 3)

    def forward(self, f, g):
        return f + self.msg(g) * torch.sigmoid(self.gate(g))


class Net(nn.Module):
    def __init__(self, p):
        super().__init__()
        w = p["encoder"]
        layers = [ConvBnRelu(3, w[0], 3, 2)]
        for i in range(1, len(w)):
            layers.append(Residual(w[i - 1], w[i], 2))
            layers += [Residual(w[i], w[i], 1) for _ in range(p["blocks"] - 1)]
        self.encoder = nn.Sequential(*layers)
        c = p["branch"]
        self.sem = nn.Sequential(ConvBnRelu(w[-1], c, 1, 1), Residual(c, c, 1))
        self.depth = nn.Sequential(ConvBnRelu(w[-1], c, 1, 1), Residual(c, c, 1))
        self.seg_init = conv(c, NUM_CLASSES, 1, bias=True)
        self.d_src_init = conv(c, 1, 3, bias=True)
        self.d_tgt_init = conv(c, 1, 3, bias=True)
        self.to_sem = Distil(c)
        self.to_depth = Distil(c)
        r1, r2 = p["atrous"]
        self.seg_a = conv(c, NUM_CLASSES, 3, bias=True, dilation=r1)
        self.seg_b = conv(c, NUM_CLASSES, 3, dilation=r2)
        self.d_src = conv(c, 1, 3, bias=True)
        self.d_tgt = conv(c, 1, 3, bias=True)

    def forward(self, x):
        h, w = x.shape[2:]
        up = lambda t: F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
        f = self.encoder(x)
        fs, fd = self.sem(f), self.depth(f)
        fs2, fd2 = self.to_sem(fs, fd), self.to_depth(fd, fs)
        return dict(
            seg=up(self.seg_a(fs2) + self.seg_b(fs2)), seg_init=up(self.seg_init(fs)),
            d_src=up(self.d_src(fd2)), d_tgt=up(self.d_tgt(fd2)),
            d_src_init=up(self.d_src_init(fd)), d_tgt_init=up(self.d_tgt_init(fd)),
        )


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
    loss = F.cross_entropy(out_s["seg"], ys, ignore_index=255) + F.cross_entropy(out_s["seg_init"], ys, ignore_index=255)
    loss = loss + 0.01 * (berhu(out_s["d_src"][:, 0], ds) + berhu(out_s["d_src_init"][:, 0], ds))
    out_m = student(x_mix)
    with torch.no_grad():
        delta = (out_m["d_src"][:, 0] - out_m["d_tgt"][:, 0]).abs()
        s = F.relu(1 - delta / d_mix.clamp(min=1e-6)) + 0.001
        wd = (s + (1 - ((d_mix - 1).abs() > 1e-4).float())).clamp(0, 1)
        wd = wd / wd.mean((1, 2), keepdim=True)
    w = w_mix * wd
    ce = lambda logits: (F.cross_entropy(logits, y_mix, reduction="none", ignore_index=255) * w).mean()
    loss = loss + ce(out_m["seg"]) + ce(out_m["seg_init"])
    mixd = lambda a, b: m * out_m[a][:, 0] + (1 - m) * out_m[b][:, 0]
    loss = loss + 0.001 * (berhu(mixd("d_src", "d_tgt"), d_mix) + berhu(mixd("d_src_init", "d_tgt_init"), d_mix))
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        for pt, ps in zip(teacher.parameters(), student.parameters()):
            pt.mul_(0.99).add_(ps, alpha=0.01)
    return loss.item()


def main():
    presets, sizes, steps, threads = sys.argv[1].split(","), sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
    device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("this torch has no CUDA device; compare on the CPU (--torch-device cpu)")
    torch.set_num_threads(threads)
    # CUDA kernels run asynchronously: wait for them before reading the clock.
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    torch.manual_seed(1)
    rows = []
    for name in presets:
        for size in sizes:
            w, h = map(int, size.split("x"))
            student, teacher = Net(PRESETS[name]).to(device), Net(PRESETS[name]).to(device)
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
    print(json.dumps(dict(torch=torch.__version__, device=torch.cuda.get_device_name() if device == "cuda" else "cpu", threads=threads, rows=rows)))


if __name__ == "__main__":
    main()
