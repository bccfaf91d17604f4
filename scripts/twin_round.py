"""Retrains one engine round in PyTorch (the twin in corda_twin.py) and scores it on the target's val split.

Usage: /usr/bin/python3 scripts/twin_round.py SAMPLES_DIR ROUND_JSON [--threads N]   (default: 1 thread)
SAMPLES_DIR and ROUND_JSON come from `corda export-samples` (the same working-size images, the round's
configuration, its parent's final checkpoint and its number of training threads). The twin replays the round as
src/core/adapt/round.ts runs it: the same seeded draws (crops, ClassMix classes, augmentation: random.ts's Rng bit
for bit), the same initial weights (the parent's student where it has them, else the seed's initialisation), the
same data-parallel split when the engine trained on several threads (each replica normalises its own slice, the
gradients and batch-norm statistics are averaged), and the same evaluation (padded to a multiple of 16, logits
upsampled to the ground truth's size, 19-class confusion-matrix mIoU). Only the arithmetic is PyTorch's.
Prints one JSON line: {"valMIoU", "perClass", "curve", "losses", "seconds", "msPerStep"}.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch

from corda_twin import (IGNORE, NUM_CLASSES, Rng, TwinTrainer, init_params, param_specs, read_checkpoint,
                        resize_bilinear_legacy)

EVAL_PAD = 16  # predict.ts OUTPUT_STRIDE_PAD


# --- data (the arrays `corda export-samples` wrote) ----------------------------------------------------------------

def load_samples(folder):
    with open(os.path.join(folder, "manifest.json"), encoding="utf8") as f:
        manifest = json.load(f)
    blobs = {}
    for name, file in manifest["files"].items():
        path = os.path.join(folder, file)
        if os.path.exists(path):
            blobs[name] = np.fromfile(path, dtype="<f4" if file.endswith(".f32") else np.uint8)
    samples = []
    for image in manifest["images"]:
        h, w = image["height"], image["width"]
        gh, gw = (image["gtSize"]["height"], image["gtSize"]["width"]) if "gtSize" in image else (h, w)
        sizes = {"rgb": (h, w, 3), "labels": (h, w), "depth": (h, w), "gt": (gh, gw)}
        sample = {"width": w, "height": h}
        for name, shape in sizes.items():
            offset = image.get(name)
            sample[name] = None if offset is None else blobs[name][offset:offset + int(np.prod(shape))].reshape(shape)
        samples.append(sample)
    return samples


def crop_sample(s, x, y, w, h, flip):
    """data.ts cropSample."""
    cols = slice(x, x + w)
    rgb = s["rgb"][y:y + h, cols]
    labels = None if s["labels"] is None else s["labels"][y:y + h, cols]
    depth = None if s["depth"] is None else s["depth"][y:y + h, cols]
    if flip:
        rgb, labels, depth = rgb[:, ::-1], None if labels is None else labels[:, ::-1], None if depth is None else depth[:, ::-1]
    return {"rgb": rgb.astype(np.float32), "labels": labels, "depth": depth}


# --- the engine's draws (round.ts drawCrops, trainer.ts prepareBatch, classmix.ts, augment.ts) ----------------------

def draw_crops(samples, config, random):
    cw, ch = config["crop"]["width"], config["crop"]["height"]
    crops = []
    for _ in range(config["batchSize"]):
        s = samples[random.int(0, len(samples) - 1)]
        x = random.int(0, s["width"] - cw)
        y = random.int(0, s["height"] - ch)
        crops.append(crop_sample(s, x, y, cw, ch, config["flip"] and random.next() < 0.5))
    return crops


def pick_half(classes, random):
    pool = list(classes)
    take = math.ceil(len(pool) / 2)
    for i in range(take):
        j = i + math.floor(random.next() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return sorted(pool[:take])


def draw_augment(random, hue):
    factor = lambda: 1 + (random.next() * 2 - 1) * 0.25  # noqa: E731
    jitter = None
    if random.next() < 0.8:
        jitter = {"brightness": factor(), "contrast": factor(), "saturation": factor()}
        jitter["hue"] = (random.next() * 2 - 1) * hue
    blur = 0.15 + random.next() * (1.15 - 0.15) if random.next() < 0.5 else None
    return {"jitter": jitter, "blurSigma": blur}


def prepare_batch(source, target, config, random):
    stack = lambda crops, key, fill: torch.from_numpy(np.stack([  # noqa: E731
        c[key] if c[key] is not None else np.full(crops[0]["rgb"].shape[:2], fill, np.float32) for c in crops]).astype(np.float32))
    batch = {
        "source_rgb": stack(source, "rgb", 0), "source_labels": stack(source, "labels", IGNORE).long(),
        "source_depth": stack(source, "depth", 1), "target_labels": None, "supervise": False,
        "mix_classes": [], "augment": [],
    }
    if config["method"] != "source-only":
        batch["target_rgb"] = stack(target, "rgb", 0)
        batch["target_depth"] = stack(target, "depth", 1)
        present = lambda labels: [c for c in np.unique(labels).tolist() if c != IGNORE]  # noqa: E731
        batch["mix_classes"] = [pick_half(present(c["labels"]), random) for c in source]
        batch["augment"] = [draw_augment(random, config["hue"]) for _ in source]
    return batch


def slice_batch(batch, start, end):
    out = dict(batch)
    for key in ("source_rgb", "source_labels", "source_depth", "target_rgb", "target_depth"):
        if key in batch:
            out[key] = batch[key][start:end]
    out["mix_classes"] = batch["mix_classes"][start:end]
    out["augment"] = batch["augment"][start:end]
    return out


def step(trainer, batch, iteration, replicas):
    """Trainer.step, or ParallelTrainer.step over `replicas` slices of the pairs (averaged gradients and BN)."""
    pairs = batch["source_rgb"].shape[0]
    n = max(1, min(replicas, pairs))
    results = [trainer.compute_gradients(slice_batch(batch, (k * pairs) // n, ((k + 1) * pairs) // n), iteration) for k in range(n)]
    grads = {name: sum(r[1][name] for r in results) / n for name in results[0][1]}
    stats = [(first[0], sum(r[2][k][1] for r in results) / n, sum(r[2][k][2] for r in results) / n)
             for k, first in enumerate(results[0][2])]
    trainer.apply(grads, stats, iteration)
    return {key: sum(r[0][key] for r in results) / n for key in results[0][0]}


# --- evaluation (predict.ts, eval/metrics.ts) ----------------------------------------------------------------------

def val_miou(net, samples):
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES + 1), dtype=np.int64)
    with torch.no_grad():
        for s in samples:
            h, w = s["height"], s["width"]
            ph, pw = -(-h // EVAL_PAD) * EVAL_PAD, -(-w // EVAL_PAD) * EVAL_PAD
            x = torch.zeros(1, ph, pw, 3)
            x[0, :h, :w] = torch.from_numpy(s["rgb"].astype(np.float32))
            logits = net.forward(x, training=False)["seg"][:, :, :h, :w]
            gh, gw = s["gt"].shape
            pred = resize_bilinear_legacy(logits, gh, gw).argmax(dim=1)[0].numpy().reshape(-1)
            gt = s["gt"].reshape(-1).astype(np.int64)
            keep = gt < NUM_CLASSES
            np.add.at(confusion, (gt[keep], pred[keep]), 1)
    tp = np.diag(confusion[:, :NUM_CLASSES]).astype(np.float64)
    denom = confusion.sum(axis=1) + confusion[:, :NUM_CLASSES].sum(axis=0) - tp
    ious = [float(tp[c] / denom[c]) if denom[c] > 0 else None for c in range(NUM_CLASSES)]
    scored = [v for v in ious if v is not None]
    return (sum(scored) / len(scored) if scored else None), ious


# --- the round -----------------------------------------------------------------------------------------------------

def starting_weights(config, preset, parent_checkpoint):
    """Trainer(config) then restore(parent, studentOnly): the parent's student where it fits, else the seed's init."""
    specs = param_specs(preset, config["method"])
    weights = init_params(specs, config["seed"])
    if parent_checkpoint:
        saved, _ = read_checkpoint(parent_checkpoint)
        for name, value in weights.items():
            other = saved.get(f"student/{name}")
            if other is not None and list(other.shape) == list(value.shape):
                weights[name] = other
    return specs, weights


def main():
    args = sys.argv[1:]
    threads = 1
    if "--threads" in args:
        at = args.index("--threads")
        threads = int(args[at + 1])
        del args[at:at + 2]
    if len(args) != 2:
        raise SystemExit("usage: twin_round.py SAMPLES_DIR ROUND_JSON [--threads N]")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    samples_dir, round_json = args
    with open(round_json, encoding="utf8") as f:
        spec = json.load(f)
    config = spec["config"]
    preset = spec["preset"]
    specs, weights = starting_weights(config, preset, spec["parentCheckpoint"])
    trainer = TwinTrainer(config, preset, specs, weights, weights)
    source = load_samples(os.path.join(samples_dir, "source"))
    target = load_samples(os.path.join(samples_dir, "target")) if config["method"] != "source-only" else []
    val = load_samples(os.path.join(samples_dir, "val"))
    replicas = spec.get("threads") or 1
    random = Rng(config["seed"] * 7919 + 17)
    curve, losses = [], None
    started = time.perf_counter()
    eval_seconds = 0.0
    for iteration in range(config["iters"]):
        batch_source = draw_crops(source, config, random)
        batch_target = draw_crops(target, config, random) if config["method"] != "source-only" else []
        # parallelSplit "passes": two threads split an adapting step's passes, which sums as one trainer does.
        adapting = config["method"] != "source-only" and iteration >= config.get("sourceWarmup", 0) * config["iters"]
        by_passes = config.get("parallelSplit") == "passes" and replicas == 2 and adapting
        losses = step(trainer, prepare_batch(batch_source, batch_target, config, random), iteration, 1 if by_passes else replicas)
        if not math.isfinite(losses["total"]):
            raise SystemExit(f"the twin diverged at iteration {iteration + 1} (loss {losses['total']})")
        done = iteration + 1
        if config.get("evalEvery", 0) > 0 and done % config["evalEvery"] == 0 and done < config["iters"]:
            t0 = time.perf_counter()
            curve.append({"iteration": done, "valMIoU": val_miou(trainer.student, val)[0], "losses": losses})
            eval_seconds += time.perf_counter() - t0
    train_seconds = time.perf_counter() - started - eval_seconds
    miou, ious = val_miou(trainer.student, val)
    curve.append({"iteration": config["iters"], "valMIoU": miou, "losses": losses})
    print(json.dumps({"valMIoU": miou, "perClass": ious, "curve": curve, "losses": losses, "replicas": replicas,
                      "seconds": time.perf_counter() - started, "msPerStep": train_seconds * 1000 / max(1, config["iters"])}))


if __name__ == "__main__":
    main()
