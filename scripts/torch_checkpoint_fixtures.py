"""Writes small PyTorch checkpoints for src/core/model/torchCheckpoint/read.test.ts, and what they hold.

Usage: /usr/bin/python3 scripts/torch_checkpoint_fixtures.py OUT_DIR
Each case is saved twice with torch.save: `<case>.zip.pth` (the zip format) and `<case>.legacy.pth`
(`_use_new_zipfile_serialization=False`), beside `<case>.json`, the same object in a plain JSON form that the
test compares the TypeScript reader's result against value by value. Also writes the files that must be refused:
a truncated checkpoint, random bytes, a pickle and a zip naming os.system (written byte by byte, never run),
a zip without data.pkl and one whose storage is shorter than declared. Prints one JSON line: the cases written.
"""
import collections
import json
import os
import random
import sys
import zipfile

import numpy as np
import torch
from torch import nn


def plain(value):
    """The value in the JSON form the test builds from the reader's output."""
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).replace("torch.", "")
        flat = value.detach().contiguous().flatten()
        if value.is_floating_point():
            # The reader hands every float dtype back as float32.
            values = flat.float().double().tolist()
        elif value.dtype == torch.int64:
            values = [str(v) for v in flat.tolist()]
        else:
            values = [int(v) for v in flat.int().tolist()]
        return {"tensor": {"dtype": dtype, "shape": list(value.shape), "values": values,
                           "parameter": isinstance(value, nn.Parameter)}}
    if isinstance(value, dict):
        return {"dict": [[plain(k), plain(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list": [plain(v) for v in value]}
    if isinstance(value, bytes):
        return {"bytes": list(value)}
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 - 1 else {"int": str(value)}
    raise TypeError(type(value))


class Head(nn.Module):
    """A conv + batch norm pair, for state dicts with real module structure (and `_metadata`)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.layer5 = nn.Conv2d(4, 2, 1)


def randomised(module, generator):
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
        module.bn1.running_var.abs_().add_(0.1)
        module.bn1.num_batches_tracked.fill_(17)
    return module


def cases():
    g = torch.Generator().manual_seed(12)
    base = torch.randn(5, 6, generator=g)
    shared = torch.randn(10, generator=g)
    mixed = {
        "float32": torch.randn(2, 3, 4, generator=g),
        "float16": torch.randn(7, generator=g).half(),
        "float64": torch.randn(3, 2, generator=g, dtype=torch.float64),
        "bfloat16": torch.randn(5, generator=g).bfloat16(),
        "int64": torch.tensor([0, -1, 2**40 + 3, -(2**62) - 5, 2**63 - 1]),
        "int32": torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32),
        "uint8": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "transposed": base.t(),
        "narrowed": shared[3:8],
        "strided": shared[::3],
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "parameter": nn.Parameter(torch.randn(2, 2, generator=g)),
        "half_transposed": torch.randn(3, 4, generator=g).half().t(),
        "text": "ümlaut ✓",
        "bytes": b"\x00\x01\xff",
        "numbers": [1, -7, 3.25, 2**70, True, None],
        "tuple": (1, "two", 3.0),
        "numpy": [np.float64(0.577), np.int64(-7), np.int64(2**60 + 1), np.float32(1.5), np.float16(-0.25), np.bool_(True), np.uint8(200)],
    }
    model = randomised(Head(), g)
    ema = randomised(Head(), g)
    authors = {
        "iteration": 90000,
        "config": {"model": "DeepLab", "training": {"batch_size": 2, "learning_rate": 2.5e-4, "unlabeled": {"train_unlabeled": True, "mix_mask": "class"}},
                   "pretrained": "coco", "seed": 5555, "ignore_label": 250, "utils": {"checkpoint_dir": None}},
        "model": model.state_dict(),
        "ema_model": ema.state_dict(),
        "optimizer": {"state": {0: {"momentum_buffer": torch.randn(4, 3, 3, 3, generator=g)}},
                      "param_groups": [{"lr": 2.5e-4, "momentum": 0.9, "dampening": 0, "weight_decay": 5e-4, "nesterov": False, "params": [0, 1, 2, 3]}]},
    }
    parallel = nn.DataParallel(randomised(Head(), g)).state_dict()
    scale = collections.OrderedDict(("Scale." + k, v) for k, v in randomised(Head(), g).state_dict().items())
    return {"mixed": mixed, "authors": authors, "parallel": parallel, "scale": scale}


FOREIGN_PICKLE = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    written = []
    for name, obj in cases().items():
        torch.save(obj, os.path.join(out, f"{name}.zip.pth"))
        torch.save(obj, os.path.join(out, f"{name}.legacy.pth"), _use_new_zipfile_serialization=False)
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(plain(obj), f)
        written.append(name)
    # Protocol 4 exercises the opcodes protocol 2 lacks (frames, STACK_GLOBAL, MEMOIZE, short unicode).
    torch.save(cases()["authors"], os.path.join(out, "authors.protocol4.pth"), pickle_protocol=4)

    for fmt in ("zip", "legacy"):
        with open(os.path.join(out, f"authors.{fmt}.pth"), "rb") as f:
            whole = f.read()
        with open(os.path.join(out, f"truncated.{fmt}.pth"), "wb") as f:
            f.write(whole[: len(whole) * 2 // 3])
    # A storage entry shorter than the storage its tensors declare.
    with zipfile.ZipFile(os.path.join(out, "authors.zip.pth")) as source, \
            zipfile.ZipFile(os.path.join(out, "short_storage.zip.pth"), "w", zipfile.ZIP_STORED) as z:
        for info in source.infolist():
            data = source.read(info)
            z.writestr(info.filename, data[: len(data) // 2] if info.filename.endswith("/data/0") else data)
    with open(os.path.join(out, "random.bin"), "wb") as f:
        f.write(random.Random(7).randbytes(4096))
    with open(os.path.join(out, "foreign.pkl"), "wb") as f:
        f.write(FOREIGN_PICKLE)
    with zipfile.ZipFile(os.path.join(out, "foreign.zip.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", FOREIGN_PICKLE)
    with zipfile.ZipFile(os.path.join(out, "nodata.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("weights/readme.txt", "no pickle here")
    print(json.dumps({"cases": written}))


if __name__ == "__main__":
    main()
