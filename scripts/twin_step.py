"""Replays the engine's training steps in PyTorch (the twin in corda_twin.py), for src/core/adapt/twin.test.ts.

Usage: /usr/bin/python3 scripts/twin_step.py CASE_DIR [CASE_DIR ...]
Each CASE_DIR holds what the test dumped: case.json (the round config, the preset, the parameter specs and each
step's random draws), init/ (the engine's initial student/ and teacher/ weights) and per step stepK/batch/ (the
crops of the prepared batch). It writes init-twin/ (its own parameter list, in the manifest's meta, and seeded
initial student). For each step the twin computes the losses, gradients, SGD, running statistics and
EMA from the same weights and batches (each step from the twin's own previous state, or from the engine's
when case.json says restartEachStep) and writes stepK/twin/ (student/, teacher/, momentum/ and diag/ tensors in
the checkpoint format, with the losses in the manifest's meta). Prints one JSON line with the losses.
"""
import json
import os
import sys

import torch

from corda_twin import TwinTrainer, init_params, param_specs, read_checkpoint, write_checkpoint


def load_batch(folder, step):
    tensors, _ = read_checkpoint(folder)
    t = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    labels = lambda key: t[key].round().long() if key in t else None  # noqa: E731
    return {
        "source_rgb": t["source.rgb"], "source_labels": labels("source.labels"), "source_depth": t["source.depth"],
        "target_rgb": t["target.rgb"], "target_depth": t["target.depth"], "target_labels": labels("target.labels"),
        "mix_classes": step["mixClasses"], "augment": step["augment"], "supervise": step["supervise"],
    }


def replay(case_dir):
    with open(os.path.join(case_dir, "case.json"), encoding="utf8") as f:
        case = json.load(f)
    init, _ = read_checkpoint(os.path.join(case_dir, "init"))
    strip = lambda prefix: {k[len(prefix):]: v for k, v in init.items() if k.startswith(prefix)}  # noqa: E731
    # The twin's own parameter list and seeded initialisation, for the test to hold against the engine's.
    specs = param_specs(case["preset"], case["config"]["method"])
    own = {f"student/{k}": v for k, v in init_params(specs, case["config"]["seed"]).items()}
    write_checkpoint(os.path.join(case_dir, "init-twin"), own, {"specs": [{k: s[k] for k in ("name", "shape", "kind", "head")} for s in specs]})
    trainer = TwinTrainer(case["config"], case["preset"], case["specs"], strip("student/"), strip("teacher/"))
    results = []
    for k, step in enumerate(case["steps"]):
        if k > 0 and case.get("restartEachStep"):
            trainer.load_snapshot(read_checkpoint(os.path.join(case_dir, f"step{k - 1}", "engine"))[0])
        batch = load_batch(os.path.join(case_dir, f"step{k}", "batch"), step)
        losses, grads, stats, diagnostics = trainer.compute_gradients(batch, step["iter"])
        trainer.apply(grads, stats, step["iter"])
        out = trainer.snapshot()
        for name, value in diagnostics.items():
            out[f"diag/{name}"] = value.float()
        write_checkpoint(os.path.join(case_dir, f"step{k}", "twin"), out, {"losses": losses})
        results.append(losses)
    return results


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    print(json.dumps({os.path.basename(os.path.normpath(d)): replay(d) for d in sys.argv[1:]}))


if __name__ == "__main__":
    main()
