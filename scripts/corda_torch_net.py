"""The engine's CorDA network (src/core/model/network.ts, CordaNetwork) as plain PyTorch modules, for speed twins.

Same layers, widths, strides, heads and per-method parts as the engine, in PyTorch's own idiom (NCHW, symmetric
padding, F.interpolate): every output has the engine's shape and every layer its parameter count, which
`python3 corda_torch_net.py describe PRESET METHOD H W` prints for the test (src/core/model/torchTwin.test.ts).
The step-parity twin with the engine's exact conventions and initialisation is scripts/corda_twin.py.

Presets:
  tiny   ResNet-like encoder (basic blocks, BN epsilon 1e-5), output stride 8.
  small  keras.applications MobileNetV2 (alpha 1.0) through block_12, BN epsilon 1e-3, ReLU6, output stride 16.
  paper  the authors' DeepLabv2 ResNet-101 network from scripts/deeplabv2_corda.py (PaperTwin), where that module exists.
"""
import importlib.util
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 19
METHODS = ("source-only", "dacs", "corda")

# network.ts PRESETS (the ResNet-like and MobileNetV2 ones); `paper` comes from its own module.
PRESETS = {
    "tiny": dict(encoder="resnet", widths=[16, 24, 32], blocks=1, branch=32, atrous=(1, 2)),
    "small": dict(encoder="mobilenetv2", branch=64, atrous=(2, 4)),
}
# network.ts MOBILENETV2_BLOCKS: (expansion, output channels, depthwise stride) of Keras blocks 0..12.
MOBILENETV2_BLOCKS = [
    (1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1), (6, 96, 1), (6, 96, 1), (6, 96, 1),
]
MOBILENETV2_STEM = 32
KERAS_BN_EPSILON = 1e-3
BN_EPSILON = 1e-5


def conv(cin, cout, k, stride=1, bias=False, dilation=1, groups=1):
    return nn.Conv2d(cin, cout, k, stride, padding=dilation * (k // 2), dilation=dilation, bias=bias, groups=groups)


def conv_bn(cin, cout, k, stride=1, eps=BN_EPSILON, groups=1):
    return nn.Sequential(conv(cin, cout, k, stride, groups=groups), nn.BatchNorm2d(cout, eps=eps))


class Residual(nn.Module):
    """network.ts residual(): basic block, projection shortcut when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3)
        self.proj = None if stride == 1 and cin == cout else conv_bn(cin, cout, 1, stride)

    def forward(self, x):
        return F.relu(self.b(F.relu(self.a(x))) + (x if self.proj is None else self.proj(x)))


def resnet_encoder(widths, blocks):
    """network.ts resnet(): a 3x3 stride-2 stem, then per stage one stride-2 block and blocks - 1 more."""
    layers = [conv_bn(3, widths[0], 3, 2), nn.ReLU()]
    for i in range(1, len(widths)):
        layers.append(Residual(widths[i - 1], widths[i], 2))
        layers += [Residual(widths[i], widths[i], 1) for _ in range(blocks - 1)]
    return nn.Sequential(*layers), widths[-1]


class InvertedResidual(nn.Module):
    """Keras MobileNetV2 block: [expand 1x1 + BN + ReLU6], depthwise 3x3 + BN + ReLU6, project 1x1 + BN."""

    def __init__(self, cin, expansion, cout, stride):
        super().__init__()
        hidden = cin * expansion
        layers = [] if expansion == 1 else [conv_bn(cin, hidden, 1, eps=KERAS_BN_EPSILON), nn.ReLU6()]
        layers += [conv_bn(hidden, hidden, 3, stride, KERAS_BN_EPSILON, groups=hidden), nn.ReLU6()]
        layers.append(conv_bn(hidden, cout, 1, eps=KERAS_BN_EPSILON))
        self.body = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.skip else y


def mobilenetv2_encoder():
    """network.ts mobileNetV2(): Conv1 (stride 2) and blocks 0..12, output stride 16, 96 channels."""
    layers = [conv_bn(3, MOBILENETV2_STEM, 3, 2, KERAS_BN_EPSILON), nn.ReLU6()]
    cin = MOBILENETV2_STEM
    for expansion, cout, stride in MOBILENETV2_BLOCKS:
        layers.append(InvertedResidual(cin, expansion, cout, stride))
        cin = cout
    return nn.Sequential(*layers), cin


class Branch(nn.Sequential):
    """network.ts branch(): 1x1 conv + BN + ReLU to the branch width, then one residual block (F_S or F_D)."""

    def __init__(self, cin, c):
        super().__init__(conv_bn(cin, c, 1), nn.ReLU(), Residual(c, c, 1))


class Distil(nn.Module):
    """F + conv3x3(G) * sigmoid(conv3x3'(G)), no biases."""

    def __init__(self, c):
        super().__init__()
        self.msg = conv(c, c, 3)
        self.gate = conv(c, c, 3)

    def forward(self, f, g):
        return f + self.msg(g) * torch.sigmoid(self.gate(g))


class SegHead(nn.Module):
    """Two dilated 3x3 branches summed (the first with a bias), as network.ts segHead()."""

    def __init__(self, c, atrous):
        super().__init__()
        self.a = conv(c, NUM_CLASSES, 3, bias=True, dilation=atrous[0])
        self.b = conv(c, NUM_CLASSES, 3, dilation=atrous[1])

    def forward(self, f):
        return self.a(f) + self.b(f)


def depth_head(c):
    return conv(c, 1, 3, bias=True)


class CordaNet(nn.Module):
    """CordaNetwork.forward: encoder, F_S (and for corda F_D), initial heads, distillation, final heads.
    Outputs NCHW at input size: seg, segInit [B, 19, H, W]; depth* [B, 1, H, W] (corda only, else None)."""

    def __init__(self, encoder, features, branch, atrous, method):
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"unknown method {method}")
        self.encoder = encoder
        self.with_depth = method == "corda"
        self.sem = Branch(features, branch)
        self.seg_init = conv(branch, NUM_CLASSES, 1, bias=True)
        if self.with_depth:
            self.depth = Branch(features, branch)
            self.depth_src_init = depth_head(branch)
            self.depth_tgt_init = depth_head(branch)
            self.to_sem = Distil(branch)
            self.to_depth = Distil(branch)
            self.depth_src = depth_head(branch)
            self.depth_tgt = depth_head(branch)
        self.seg = SegHead(branch, atrous)

    def forward(self, x):
        h, w = x.shape[2:]
        up = lambda t: F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)  # noqa: E731
        f = self.encoder(x)
        fs = self.sem(f)
        seg_init = up(self.seg_init(fs))
        if not self.with_depth:
            return dict(seg=up(self.seg(fs)), segInit=seg_init, depthSrc=None, depthTgt=None, depthSrcInit=None, depthTgtInit=None)
        fd = self.depth(f)
        fs2, fd2 = self.to_sem(fs, fd), self.to_depth(fd, fs)
        return dict(
            seg=up(self.seg(fs2)), segInit=seg_init,
            depthSrc=up(self.depth_src(fd2)), depthTgt=up(self.depth_tgt(fd2)),
            depthSrcInit=up(self.depth_src_init(fd)), depthTgtInit=up(self.depth_tgt_init(fd)),
        )


BACKBONE = ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4")


class PaperTwin(nn.Module):
    """The `paper` preset: the authors' DeepLabv2 ResNet-101 CorDA network (scripts/deeplabv2_corda.py, GTA variant)
    with the engine's conventions on top (src/core/model/network.ts referenceForward): backbone batch-norm affine
    frozen, outputs upsampled with aligned corners, depth outputs only for corda (the depth branch always runs, as
    the distillation feeds S)."""

    def __init__(self, module, method):
        super().__init__()
        self.net = module.CordaDeepLabV2("gta")
        self.with_depth = method == "corda"
        for name, layer in self.net.named_modules():
            if isinstance(layer, nn.BatchNorm2d) and name.split(".")[0] in BACKBONE:
                layer.weight.requires_grad_(False)
                layer.bias.requires_grad_(False)

    def forward(self, x):
        h, w = x.shape[2:]
        up = lambda t: F.interpolate(t, size=(h, w), mode="bilinear", align_corners=True)  # noqa: E731
        out = self.net(x)
        depth = {"depthSrc": "D_src", "depthTgt": "D", "depthSrcInit": "initial_D_src", "depthTgtInit": "initial_D"}
        result = dict(seg=up(out["S"]), segInit=up(out["initial_S"]))
        result.update({k: up(out[v]) if self.with_depth else None for k, v in depth.items()})
        return result


def paper_network(method):
    """The `paper` twin from scripts/deeplabv2_corda.py (the authors' network, added with the DeepLabv2 preset);
    None where that module is not in the checkout."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deeplabv2_corda.py")
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("deeplabv2_corda", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return PaperTwin(module, method)


def build(preset, method="corda"):
    """The twin of `preset` for `method`, or None where this checkout has none (`paper` without its module)."""
    if preset == "paper":
        return paper_network(method)
    p = PRESETS[preset]
    encoder, features = resnet_encoder(p["widths"], p["blocks"]) if p["encoder"] == "resnet" else mobilenetv2_encoder()
    return CordaNet(encoder, features, p["branch"], p["atrous"], method)


def describe(net, height, width):
    """Parameter counts (trainable; frozen; batch-norm running statistics) and NHWC output shapes at batch 2."""
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in net.parameters() if not p.requires_grad)
    bn_stats = sum(b.numel() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var")))
    net.eval()
    with torch.no_grad():
        out = net(torch.zeros(2, 3, height, width))
    shapes = {k: None if v is None else [v.shape[0], v.shape[2], v.shape[3], v.shape[1]] for k, v in out.items()}
    return dict(trainable=trainable, frozen=frozen, bnStats=bn_stats, shapes=shapes)


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] != "describe":
        sys.exit("usage: corda_torch_net.py describe PRESET METHOD HEIGHT WIDTH")
    _, _, preset_name, method_name, height_arg, width_arg = sys.argv
    twin = build(preset_name, method_name)
    if twin is None:
        print(json.dumps(dict(missing=f"no {preset_name} twin in this checkout (scripts/deeplabv2_corda.py)")))
    else:
        print(json.dumps(describe(twin, int(height_arg), int(width_arg))))
