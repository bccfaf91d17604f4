#!/usr/bin/python3
"""The authors' CorDA network (github.com/qinenergy/corda, model/deeplabv2_gta.py and deeplabv2_synthia.py),
defined here independently in PyTorch with the same module names, so that its state dict has the reference's keys.

Used by src/core/model/deeplabv2.test.ts: it builds the network with random weights and random batch-norm
statistics, runs it in inference mode on a random RGB image, and writes
  <out>/weights.{json,f32}  every state-dict entry (PyTorch layout; num_batches_tracked included, as float)
  <out>/io.{json,f32}       `image` (RGB in [0, 255], [1, H, W, 3]) and the six outputs upsampled to H x W with
                            align_corners=True as the reference's interp, NHWC: S, initial_S, D, D_src, initial_D,
                            initial_D_src
  <out>/state_dict.pt, <out>/state_dict_legacy.pt  with --torch-save (both torch.save formats)
The input is the reference's: RGB -> BGR, minus IMG_MEAN, no scaling.

  /usr/bin/python3 scripts/deeplabv2_corda.py --out DIR [--variant gta|synthia] [--width 1024 --height 512] [--seed 0]
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMG_MEAN = np.array((104.00698793, 116.66876762, 122.67891434), dtype=np.float32)  # B, G, R
CLASSES = 19
BRANCH = 256
ASPP_DILATIONS = (6, 12, 18, 24)
ASPP_SUMMED = 2  # the reference's forward returns inside its loop: dilation 6 + dilation 12


class Bottleneck(nn.Module):
    """Caffe-style bottleneck: the stride sits in the first 1x1 convolution."""

    def __init__(self, inplanes, planes, stride=1, dilation=1, projection=False):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if projection:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Aspp(nn.Module):
    """The reference's Classifier_Module: four dilated 3x3 convolutions, of which the first two are summed."""

    def __init__(self, inplanes, outputs):
        super().__init__()
        self.conv2d_list = nn.ModuleList([nn.Conv2d(inplanes, outputs, 3, padding=d, dilation=d, bias=True) for d in ASPP_DILATIONS])

    def forward(self, x):
        return sum(conv(x) for conv in list(self.conv2d_list)[:ASPP_SUMMED])


class SpatialAttention(nn.Module):
    """The reference's SABlock: conv3x3(x) * sigmoid(conv3x3'(x)), no bias."""

    def __init__(self, channels):
        super().__init__()
        self.attention = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.Sigmoid())
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv(x) * self.attention(x)


class InitialHeads(nn.Module):
    def __init__(self, variant, inplanes=2048):
        super().__init__()
        self.variant = variant
        self.layers = nn.ModuleDict({
            task: nn.Sequential(Bottleneck(inplanes, BRANCH // 4, projection=True), Bottleneck(BRANCH, BRANCH // 4))
            for task in ("S", "D")
        })
        semantic = Aspp(inplanes, CLASSES) if variant == "gta" else nn.Conv2d(BRANCH, CLASSES, 1)
        self.conv_out = nn.ModuleDict({"S": semantic, "D": nn.Conv2d(BRANCH, 1, 1), "D_src": nn.Conv2d(BRANCH, 1, 1)})

    def forward(self, x):
        fs = self.layers["S"](x)
        fd = self.layers["D"](x)
        return {
            "features_S": fs,
            "features_D": fd,
            "S": self.conv_out["S"](x if self.variant == "gta" else fs),
            "D": self.conv_out["D"](fd),
            "D_src": self.conv_out["D_src"](fd),
        }


class Distillation(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attention = nn.ModuleDict({
            "S": nn.ModuleDict({"D": SpatialAttention(BRANCH)}),
            "D": nn.ModuleDict({"S": SpatialAttention(BRANCH)}),
        })

    def forward(self, fs, fd):
        return fs + self.self_attention["S"]["D"](fd), fd + self.self_attention["D"]["S"](fs)


class CordaDeepLabV2(nn.Module):
    STAGES = ((64, 3, 1, 1), (128, 4, 2, 1), (256, 23, 1, 2), (512, 3, 1, 4))  # planes, blocks, stride, dilation

    def __init__(self, variant="gta"):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        inplanes = 64
        for index, (planes, blocks, stride, dilation) in enumerate(self.STAGES, start=1):
            layer = [Bottleneck(inplanes, planes, stride, dilation, projection=True)]
            layer += [Bottleneck(planes * 4, planes, 1, dilation) for _ in range(blocks - 1)]
            setattr(self, "layer%d" % index, nn.Sequential(*layer))
            inplanes = planes * 4
        self.initial_task_prediction_heads = InitialHeads(variant)
        self.multi_modal_distillation = Distillation()
        self.heads = nn.ModuleDict({"S": Aspp(BRANCH, CLASSES), "D": Aspp(BRANCH, 1), "D_src": Aspp(BRANCH, 1)})

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        initial = self.initial_task_prediction_heads(x)
        fs, fd = self.multi_modal_distillation(initial["features_S"], initial["features_D"])
        return {
            "S": self.heads["S"](fs),
            "D": self.heads["D"](fd),
            "D_src": self.heads["D_src"](fd),
            "initial_S": initial["S"],
            "initial_D": initial["D"],
            "initial_D_src": initial["D_src"],
        }


def randomise(model, generator, calibration):
    """He-normal convolutions (0.5x on each bottleneck's last one), small random biases, random batch-norm affine,
    and running statistics taken from a batch of random calibration scenes (so they are random too, per channel,
    and not those of the image the test feeds). Statistics drawn independently of the weights let the activations grow
    to ~1e6 through 33 residual blocks, where the sigmoid gates turn float32 rounding into large errors, unlike a
    trained network; perturbing calibrated statistics compounds the same way."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            std = (2.0 / fan_in) ** 0.5 * (0.5 if name.endswith("conv3") else 1.0)
            module.weight.data = torch.randn(module.weight.shape, generator=generator) * std
            if module.bias is not None:
                module.bias.data = torch.randn(module.bias.shape, generator=generator) * 0.1
        elif isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.weight.data = 0.5 + torch.rand(c, generator=generator)
            module.bias.data = torch.randn(c, generator=generator) * 0.1
            module.momentum = 1.0  # the calibration pass below sets the running statistics to its batch's
    model.train()
    with torch.no_grad():
        model(calibration)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            # A floor of twice the layer's mean variance, then a random factor in [1, 2) per channel: dividing by
            # smaller spreads amplifies float32 rounding by up to mean / spread in channels that the calibration
            # scenes leave nearly constant (measured: torch float32 against float64 off by 2e-4 relative without it).
            floor = 2.0 * module.running_var.mean().item()
            module.running_var.clamp_(min=floor).mul_(1 + torch.rand(module.num_features, generator=generator))
            module.momentum = 0.1
            module.num_batches_tracked.fill_(7)
    model.eval()


def random_scene(generator, height, width, count=1):
    """RGB in [0, 255], [count, H, W, 3]: a vertical colour gradient, a dozen flat rectangles of random colours at
    random places (relative to the size) and some grain. Structure matters: on pure noise, deep features are nearly
    constant over the image and batch norm's mean subtraction turns float32 rounding into large relative errors."""
    def uniform(*shape):
        return torch.rand(shape, generator=generator)

    images = []
    rows = torch.linspace(0, 1, height).view(height, 1, 1)
    for _ in range(count):
        top, bottom = uniform(3) * 255, uniform(3) * 255
        image = (top * (1 - rows) + bottom * rows).expand(height, width, 3).clone()
        for _ in range(12):
            y0, x0 = int(uniform(1) * height), int(uniform(1) * width)
            h, w = max(1, int(uniform(1) * height * 0.5)), max(1, int(uniform(1) * width * 0.5))
            image[y0:y0 + h, x0:x0 + w] = uniform(3) * 255
        image += (uniform(height, width, 3) - 0.5) * 20
        images.append(image.clamp(0, 255))
    return torch.stack(images)


def reference_input(rgb):
    """RGB in [0, 255], [B, H, W, 3] → the reference's input: BGR minus IMG_MEAN, no scaling, NCHW."""
    bgr = rgb.numpy()[..., ::-1] - IMG_MEAN
    return torch.from_numpy(np.ascontiguousarray(bgr.transpose(0, 3, 1, 2)))


def write_raw(stem, tensors):
    index, offset, chunks = [], 0, []
    for name, value in tensors:
        array = np.ascontiguousarray(value.detach().cpu().numpy(), dtype="<f4")
        index.append({"name": name, "shape": list(array.shape), "offset": offset})
        offset += array.size
        chunks.append(array.reshape(-1))
    with open(stem + ".f32", "wb") as f:
        for chunk in chunks:
            f.write(chunk.tobytes())
    with open(stem + ".json", "w") as f:
        json.dump({"tensors": index}, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--variant", choices=("gta", "synthia"), default="gta")
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-save", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    generator = torch.Generator().manual_seed(args.seed)
    model = CordaDeepLabV2(args.variant)
    randomise(model, generator, reference_input(random_scene(generator, 96, 160, count=4)))
    state = model.state_dict()
    write_raw(os.path.join(args.out, "weights"), [(k, v.float()) for k, v in state.items()])
    if args.torch_save:
        torch.save(state, os.path.join(args.out, "state_dict.pt"))
        torch.save(state, os.path.join(args.out, "state_dict_legacy.pt"), _use_new_zipfile_serialization=False)

    rgb = random_scene(generator, args.height, args.width)
    x = reference_input(rgb)
    with torch.no_grad():
        out = model(x)
    interp = nn.Upsample(size=(args.height, args.width), mode="bilinear", align_corners=True)
    names = ("S", "initial_S", "D", "D_src", "initial_D", "initial_D_src")
    io = [("image", rgb)] + [(n, interp(out[n]).permute(0, 2, 3, 1)) for n in names]
    write_raw(os.path.join(args.out, "io"), io)
    print(json.dumps({"parameters": sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked")),
                      "stateDictKeys": len(state), "featureSize": list(out["S"].shape[2:])}))


if __name__ == "__main__":
    main()
