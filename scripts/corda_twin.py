"""A PyTorch twin of the engine's CorDA network and training step, written independently from the TypeScript.

It mirrors src/core/model/network.ts (CordaNetwork, ResNet-like presets), src/core/adapt/trainer.ts
(computeGradients + apply), losses.ts, augment.ts, classmix.ts and optim.ts (Sgd, updateEma), including the
engine's conventions where they differ from PyTorch's:
  - weights are stored as the engine stores them (convs HWIO [kh, kw, in, out]) and permuted to OIHW when used;
  - TensorFlow 'same' padding (asymmetric for stride 2: the extra row / column at the bottom / right);
  - tf.image.resizeBilinear with alignCorners = halfPixelCenters = false (src = dst * in / out);
  - batch norm in training mode normalises with tf.moments (biased variance) and feeds the same biased variance
    into the running statistics.
Gradients come from torch autograd: nothing of the engine's hand-written gradients is reused.
Tensors travel in the engine's checkpoint format (src/core/model/checkpoint.ts): a float32 little-endian blob,
weights.bin, and manifest.json with names, shapes and offsets.
"""
import hashlib
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

NUM_CLASSES = 19
IGNORE = 255
HUMAN_IGNORE = 254
# Constants of the engine that its RoundConfig does not carry.
BN_MOMENTUM = 0.1  # trainer.ts BN_MOMENTUM
BN_EPSILON = 1e-5  # network.ts batchNorm default for the ResNet-like encoders
POLY_POWER = 0.9  # trainer.ts: new Sgd({ power: 0.9 })
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-8  # optim.ts
TRAINABLE_KINDS = ("weight", "bias", "bn-scale", "bn-offset")
AFTER_ENCODER = ("sem.", "depth.", "distil.", "head.")  # optim.ts AFTER_ENCODER


# --- checkpoint format ---------------------------------------------------------------------------------------------

def read_checkpoint(folder):
    """{name: float32 array} and the manifest's meta of a folder written by writeCheckpoint (or write_checkpoint)."""
    with open(os.path.join(folder, "manifest.json"), encoding="utf8") as f:
        manifest = json.load(f)
    blob = np.fromfile(os.path.join(folder, "weights.bin"), dtype="<f4")
    tensors = {}
    for t in manifest["tensors"]:
        tensors[t["name"]] = blob[t["offset"]:t["offset"] + t["length"]].reshape(t["shape"])
    return tensors, manifest.get("meta", {})


def write_checkpoint(folder, tensors, meta):
    """Writes {name: array or tensor} as the engine's checkpoint format (readable by readCheckpoint)."""
    os.makedirs(folder, exist_ok=True)
    entries, parts, offset = [], [], 0
    for name, value in tensors.items():
        array = value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)
        array = np.ascontiguousarray(array, dtype="<f4")
        entries.append({"name": name, "shape": list(array.shape), "offset": offset, "length": int(array.size)})
        parts.append(array.reshape(-1))
        offset += array.size
    data = (np.concatenate(parts) if parts else np.zeros(0, "<f4")).tobytes()
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(data)
    manifest = {"format": "corda-checkpoint-1", "tensors": entries, "meta": meta, "sha256": hashlib.sha256(data).hexdigest()}
    with open(os.path.join(folder, "manifest.json"), "w", encoding="utf8") as f:
        json.dump(manifest, f)


# --- the engine's randomness (random.ts, params.ts) ----------------------------------------------------------------

MASK32 = 0xFFFFFFFF


class Rng:
    """random.ts Rng (mulberry32), bit for bit, so that the twin can draw what the engine draws."""

    def __init__(self, seed):
        self.state = seed & MASK32

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & MASK32
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & MASK32
        t ^= (t + ((t ^ (t >> 7)) * (t | 61))) & MASK32
        return ((t ^ (t >> 14)) & MASK32) / 4294967296

    def int(self, low, high):
        return low + math.floor(self.next() * (high - low + 1))


def param_specs(preset, method):
    """The parameters CordaNetwork creates (ResNet-like presets), in its creation order:
    [{name, shape, kind, head, std}] (std None: He-normal over all but the last dimension)."""
    if preset["encoderKind"] != "resnet":
        raise ValueError(f"the twin covers the ResNet-like presets, not {preset['name']}")
    specs = []

    def conv(name, k, cin, cout, bias=False, head=False, std=None):
        specs.append({"name": f"{name}.w", "shape": [k, k, cin, cout], "kind": "weight", "head": head, "std": std})
        if bias:
            specs.append({"name": f"{name}.b", "shape": [cout], "kind": "bias", "head": head, "std": None})

    def conv_bn(name, k, cin, cout):
        conv(f"{name}.conv", k, cin, cout)
        for suffix, kind in (("scale", "bn-scale"), ("offset", "bn-offset"), ("mean", "bn-mean"), ("var", "bn-var")):
            specs.append({"name": f"{name}.bn.{suffix}", "shape": [cout], "kind": kind, "head": False, "std": None})

    def residual(name, cin, cout, stride):
        conv_bn(f"{name}.a", 3, cin, cout)
        conv_bn(f"{name}.b", 3, cout, cout)
        if not (stride == 1 and cin == cout):
            conv_bn(f"{name}.proj", 1, cin, cout)

    widths, c = preset["encoder"], preset["branch"]
    conv_bn("enc.stem", 3, 3, widths[0])
    for i in range(1, len(widths)):
        residual(f"enc.s{i}.0", widths[i - 1], widths[i], 2)
        for b in range(1, preset["blocksPerStage"]):
            residual(f"enc.s{i}.{b}", widths[i], widths[i], 1)

    def branch(name):
        conv_bn(f"{name}.in", 1, widths[-1], c)
        residual(f"{name}.block", c, c, 1)

    def seg_head(name):
        r1, r2 = preset["atrous"]
        conv(f"{name}.r{r1}", 3, c, NUM_CLASSES, bias=True, head=True)
        conv(f"{name}.r{r2}", 3, c, NUM_CLASSES, head=True)

    depth_head = lambda name: conv(name, 3, c, 1, bias=True, head=True, std=0.01)  # noqa: E731
    branch("sem")
    conv("head.seg_init", 1, c, NUM_CLASSES, bias=True, head=True)
    if method != "corda":
        seg_head("head.seg")
        return specs
    branch("depth")
    depth_head("head.depth_src_init")
    depth_head("head.depth_tgt_init")
    for name in ("distil.to_sem", "distil.to_depth"):
        conv(f"{name}.msg", 3, c, c, std=0.01)
        conv(f"{name}.gate", 3, c, c)
    seg_head("head.seg")
    depth_head("head.depth_src")
    depth_head("head.depth_tgt")
    return specs


def init_params(specs, seed):
    """ParamStore's initial values for a network seeded with `seed`: He-normal weights (Box–Muller on the seeded
    Rng, in creation order), batch-norm scale and variance 1, everything else 0. {name: float32 array}."""
    rng = Rng(seed)
    out = {}
    for s in specs:
        size = int(np.prod(s["shape"]))
        values = np.zeros(size, dtype=np.float32)
        if s["kind"] == "weight":
            std = s["std"] if s["std"] is not None else math.sqrt(2 / max(1, size // s["shape"][-1]))
            for i in range(size):
                u = max(rng.next(), 1e-12)
                v = rng.next()
                values[i] = math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v) * std
        elif s["kind"] in ("bn-scale", "bn-var"):
            values.fill(1)
        out[s["name"]] = values.reshape(s["shape"])
    return out


# --- TensorFlow conventions ----------------------------------------------------------------------------------------

def same_pads(size, kernel, stride):
    """TensorFlow 'same' padding along one axis: (before, after), the odd pixel after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d_same(x, w_hwio, stride=1, groups=1):
    """tf.conv2d / tf.depthwiseConv2d (groups = channels) with 'same' padding; x NCHW, weights HWIO."""
    kh, kw = w_hwio.shape[0], w_hwio.shape[1]
    top, bottom = same_pads(x.shape[2], kh, stride)
    left, right = same_pads(x.shape[3], kw, stride)
    if top or bottom or left or right:
        x = F.pad(x, (left, right, top, bottom))
    # OIHW (groups: [C, 1, kh, kw]); contiguous, as some CPU convolution kernels require of their weight gradient.
    weight = (w_hwio.permute(3, 2, 0, 1) if groups == 1 else w_hwio.permute(2, 3, 0, 1)).contiguous()
    return F.conv2d(x, weight, stride=stride, groups=groups)


def _legacy_axis(in_size, out_size):
    scale = in_size / out_size
    src = np.arange(out_size, dtype=np.float64) * scale
    low = np.floor(src).astype(np.int64)
    high = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    frac = (src - low).astype(np.float32)
    return torch.from_numpy(low), torch.from_numpy(high), torch.from_numpy(frac)


def resize_bilinear_legacy(x, height, width):
    """tf.image.resizeBilinear(x, [h, w], alignCorners=false, halfPixelCenters=false) on NCHW: src = dst·in/out."""
    top, bottom, fy = _legacy_axis(x.shape[2], height)
    left, right, fx = _legacy_axis(x.shape[3], width)
    fy = fy.view(1, 1, -1, 1)
    rows = x.index_select(2, top) * (1 - fy) + x.index_select(2, bottom) * fy
    fx = fx.view(1, 1, 1, -1)
    return rows.index_select(3, left) * (1 - fx) + rows.index_select(3, right) * fx


# --- the network ---------------------------------------------------------------------------------------------------

class TwinNetwork:
    """CordaNetwork.forward for the ResNet-like presets over a {name: tensor} store in the engine's layouts."""

    def __init__(self, preset, method, depth_scale, params):
        if preset["encoderKind"] != "resnet":
            raise ValueError(f"the twin covers the ResNet-like presets, not {preset['name']}")
        self.preset = preset
        self.with_depth = method == "corda"
        self.depth_scale = depth_scale
        self.params = params

    def _conv(self, x, name, stride=1, bias=False):
        y = conv2d_same(x, self.params[f"{name}.w"], stride)
        return y + self.params[f"{name}.b"].view(1, -1, 1, 1) if bias else y

    def _atrous(self, x, name, rate, bias=False):
        # network.ts: spaceToBatch → valid 3x3 conv → batchToSpace, i.e. a 3x3 conv dilated by `rate`, padded by `rate`.
        if rate == 1:
            return self._conv(x, name, 1, bias)
        y = F.conv2d(x, self.params[f"{name}.w"].permute(3, 2, 0, 1).contiguous(), padding=rate, dilation=rate)
        return y + self.params[f"{name}.b"].view(1, -1, 1, 1) if bias else y

    def _bn(self, x, name, training, stats):
        p = self.params
        shape = (1, -1, 1, 1)
        if training:
            mean = x.mean(dim=(0, 2, 3))
            variance = ((x - mean.view(shape)) ** 2).mean(dim=(0, 2, 3))  # tf.moments: biased
            if stats is not None:
                stats.append((f"{name}.mean", mean.detach(), variance.detach()))
        else:
            mean, variance = p[f"{name}.mean"], p[f"{name}.var"]
        inv = torch.rsqrt(variance + BN_EPSILON)
        return (x - mean.view(shape)) * (inv * p[f"{name}.scale"]).view(shape) + p[f"{name}.offset"].view(shape)

    def _conv_bn_relu(self, x, name, stride, training, stats):
        return F.relu(self._bn(self._conv(x, f"{name}.conv", stride), f"{name}.bn", training, stats))

    def _residual(self, x, name, out, stride, training, stats):
        a = self._conv_bn_relu(x, f"{name}.a", stride, training, stats)
        b = self._bn(self._conv(a, f"{name}.b.conv"), f"{name}.b.bn", training, stats)
        if stride == 1 and x.shape[1] == out:
            shortcut = x
        else:
            shortcut = self._bn(self._conv(x, f"{name}.proj.conv", stride), f"{name}.proj.bn", training, stats)
        return F.relu(b + shortcut)

    def _encoder(self, x, training, stats):
        widths = self.preset["encoder"]
        y = self._conv_bn_relu(x, "enc.stem", 2, training, stats)
        for i, width in enumerate(widths[1:]):
            y = self._residual(y, f"enc.s{i + 1}.0", width, 2, training, stats)
            for b in range(1, self.preset["blocksPerStage"]):
                y = self._residual(y, f"enc.s{i + 1}.{b}", width, 1, training, stats)
        return y

    def _branch(self, x, name, training, stats):
        y = self._conv_bn_relu(x, f"{name}.in", 1, training, stats)
        return self._residual(y, f"{name}.block", self.preset["branch"], 1, training, stats)

    def _distil(self, f, g, name):
        return f + self._conv(g, f"{name}.msg") * torch.sigmoid(self._conv(g, f"{name}.gate"))

    def _seg_head(self, f, name):
        r1, r2 = self.preset["atrous"]
        return self._atrous(f, f"{name}.r{r1}", r1, bias=True) + self._atrous(f, f"{name}.r{r2}", r2)

    def _depth_head(self, f, name):
        y = self._conv(f, name, 1, bias=True)
        return y if self.depth_scale == 1 else y * self.depth_scale

    def normalise(self, x_nhwc):
        mean = torch.tensor(self.preset["input"]["mean"], dtype=torch.float32)
        std = torch.tensor(self.preset["input"]["std"], dtype=torch.float32)
        return ((x_nhwc / 255 - mean) / std).permute(0, 3, 1, 2)

    def forward(self, x_nhwc, training, stats=None):
        """RGB [B, H, W, 3] in [0, 255] → seg / segInit logits [B, 19, H, W] and depth maps [B, H, W] (or None).
        In training mode each batch norm's batch statistics are appended to `stats` (when given)."""
        h, w = x_nhwc.shape[1], x_nhwc.shape[2]
        up = lambda t: resize_bilinear_legacy(t, h, w)  # noqa: E731
        features = self._encoder(self.normalise(x_nhwc), training, stats)
        fs = self._branch(features, "sem", training, stats)
        seg_init = up(self._conv(fs, "head.seg_init", 1, bias=True))
        if not self.with_depth:
            return {"seg": up(self._seg_head(fs, "head.seg")), "segInit": seg_init,
                    "depthSrc": None, "depthTgt": None, "depthSrcInit": None, "depthTgtInit": None}
        fd = self._branch(features, "depth", training, stats)
        depth = lambda f, name: up(self._depth_head(f, name))[:, 0]  # noqa: E731
        depth_src_init = depth(fd, "head.depth_src_init")
        depth_tgt_init = depth(fd, "head.depth_tgt_init")
        fs2 = self._distil(fs, fd, "distil.to_sem")
        fd2 = self._distil(fd, fs, "distil.to_depth")
        return {"seg": up(self._seg_head(fs2, "head.seg")), "segInit": seg_init,
                "depthSrc": depth(fd2, "head.depth_src"), "depthTgt": depth(fd2, "head.depth_tgt"),
                "depthSrcInit": depth_src_init, "depthTgtInit": depth_tgt_init}


# --- losses (losses.ts) --------------------------------------------------------------------------------------------

def pixel_cross_entropy(logits, labels):
    """Per-pixel −log softmax[label] [B, H, W] (0 on ignore pixels) for logits [B, C, H, W], and the valid mask.
    The value is the engine's, −log(max(p, 1e-30)) (it saturates near 69); the gradient is log-softmax's own,
    softmax − one-hot, unclamped, which the engine's hand-written gradient also is."""
    valid = (labels != IGNORE).float()
    safe = torch.where(labels == IGNORE, torch.zeros_like(labels), labels).unsqueeze(1)
    nll = -torch.log_softmax(logits, dim=1).gather(1, safe).squeeze(1)
    clamped = -torch.log(torch.clamp(torch.softmax(logits, dim=1).gather(1, safe).squeeze(1), min=1e-30))
    return (nll + (clamped - nll).detach()) * valid, valid


def cross_entropy(logits, labels, min_share=0.0):
    ce, valid = pixel_cross_entropy(logits, labels)
    return ce.sum() / torch.clamp(valid.sum(), min=max(1.0, min_share * labels.numel()))


def weighted_cross_entropy(logits, labels, weights):
    ce, _ = pixel_cross_entropy(logits, labels)
    return (ce * weights).mean()


def valid_depth(target):
    return ((target - 1).abs() > 1e-4).float()


def berhu(pred, target, valid):
    e = (pred - target).abs() * valid
    c = torch.clamp((e.max() * 0.2).detach(), min=1e-6)
    loss = (e + F.relu(e - c) ** 2 / (2 * c)) * valid
    return loss.sum() / torch.clamp(valid.sum(), min=1)


def depth_discrepancy_weight(depth_src, depth_tgt, depth_target, reference_slip=False):
    delta = (depth_src - depth_tgt).abs()
    s = F.relu(1 - delta / torch.clamp(depth_target, min=1e-6)) + 0.001
    wd = torch.clamp(s + (1 - valid_depth(depth_target)), 0, 1)
    if reference_slip:
        # The reference's [B, H, W] x [B, 1, H, W] broadcast: each image weighted by the batch's mean weight per pixel.
        return (wd / torch.clamp(wd.mean(), min=1e-6)).mean(dim=0, keepdim=True).expand_as(wd)
    return wd / torch.clamp(wd.mean(dim=(1, 2), keepdim=True), min=1e-6)


def mixed_targets(m, source_labels, pseudo, q, corrected):
    """labels, weight and trusted (or None) of the ClassMix image, as losses.ts mixedTargets."""
    if corrected is None:
        return torch.where(m > 0.5, source_labels, pseudo), m + (1 - m) * q, None
    from_target = 1 - m
    base = m + from_target * q
    is_label = corrected < NUM_CLASSES
    trusted = from_target * is_label.float()
    ignored = from_target * (corrected == HUMAN_IGNORE).float()
    labels = torch.where(m > 0.5, source_labels, torch.where(is_label, corrected, pseudo))
    return labels, base * (1 - trusted - ignored) + trusted, trusted


def mix(m, a, b):
    """M·a + (1−M)·b with a mask [B, H, W] over [B, H, W] or [B, H, W, C]."""
    mm = m.unsqueeze(-1) if a.dim() == 4 else m
    return mm * a + (1 - mm) * b


def class_mask(labels, classes):
    """1 where the label is one of `classes` (int64 labels [H, W])."""
    chosen = torch.zeros(256, dtype=torch.float32)
    chosen[list(classes)] = 1
    return chosen[labels]


# --- augmentation (augment.ts) -------------------------------------------------------------------------------------

def gaussian_kernel(sigma):
    radius = max(1, math.ceil(2 * sigma))
    values = np.exp(-(np.arange(-radius, radius + 1, dtype=np.float64) ** 2) / (2 * sigma * sigma))
    # As the engine: the sum over the unrounded values, each value rounded to float32 before the division.
    return (values.astype(np.float32).astype(np.float64) / values.sum()).astype(np.float32)


def hue_rotation(turns):
    to_yiq = np.array([[0.299, 0.596, 0.211], [0.587, -0.274, -0.523], [0.114, -0.322, 0.312]])
    from_yiq = np.linalg.inv(to_yiq)
    c, s = math.cos(2 * math.pi * turns), math.sin(2 * math.pi * turns)
    rotate = np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    return torch.from_numpy((to_yiq @ rotate @ from_yiq).astype(np.float32))


def jitter(image, p):
    """Colour jitter of one image [1, H, W, 3]: brightness, saturation, contrast, then the YIQ hue rotation."""
    x = image * p["brightness"]
    grey = (x * torch.tensor([0.299, 0.587, 0.114])).sum(-1, keepdim=True)
    x = (x - grey) * p["saturation"] + grey
    mean = grey.mean()
    x = (x - mean) * p["contrast"] + mean
    if p["hue"] != 0:
        x = (x.reshape(-1, 3) @ hue_rotation(p["hue"])).reshape(x.shape)
    return torch.clamp(x, 0, 255)


def blur(image, sigma):
    """Separable depthwise Gaussian blur with 'same' zero padding, a row pass then a column pass; [1, H, W, 3]."""
    k = torch.from_numpy(gaussian_kernel(sigma))
    n = k.numel()
    x = image.permute(0, 3, 1, 2)
    x = conv2d_same(x, k.view(1, n, 1, 1).expand(1, n, 3, 1), groups=3)
    x = conv2d_same(x, k.view(n, 1, 1, 1).expand(n, 1, 3, 1), groups=3)
    return x.permute(0, 2, 3, 1)


def augment_batch(images, params):
    out = []
    for i, p in enumerate(params):
        x = images[i:i + 1]
        if p["jitter"]:
            x = jitter(x, p["jitter"])
        if p["blurSigma"]:
            x = blur(x, p["blurSigma"])
        out.append(x)
    return torch.cat(out, 0)


def recolour_to_target(source, target):
    """augment.ts recolourToTarget: per image and channel, the source's mean and spread moved to the target's."""
    spread = lambda x: x.var(dim=(1, 2), unbiased=False, keepdim=True).sqrt() + 1  # noqa: E731
    s_mean, t_mean = source.mean(dim=(1, 2), keepdim=True), target.mean(dim=(1, 2), keepdim=True)
    return ((source - s_mean) / spread(source) * spread(target) + t_mean).clamp(0, 255)


# --- optimiser (optim.ts) ------------------------------------------------------------------------------------------

def poly_lr(base, iteration, total, power=POLY_POWER):
    return base * max(0.0, 1 - iteration / max(1, total)) ** power


def scheduled_lr(base, iteration, total, warmup=0):
    """The poly rate, scaled by (iteration + 1) / warmup over the first warmup iterations (optim.ts scheduledLr)."""
    return poly_lr(base, iteration, total) * (min(1.0, (iteration + 1) / warmup) if warmup > 0 else 1.0)


def in_ten_x_group(name, head, group):
    return head or (group == "reference" and name.startswith(AFTER_ENCODER))


def ema_decay(iteration, maximum):
    return min(1 - 1 / (iteration + 1), maximum)


# --- the training step (trainer.ts) --------------------------------------------------------------------------------

def stack_images(batch, key):
    return torch.from_numpy(np.ascontiguousarray(batch[key], dtype=np.float32))


class TwinTrainer:
    """Student, EMA teacher and SGD momentum of one round, stepped as Trainer.computeGradients + Trainer.apply."""

    def __init__(self, config, preset, specs, student, teacher):
        """specs: [{name, shape, kind, head}] (ParamStore.specs); student / teacher: {name: float32 array}."""
        self.config = config
        self.specs = {s["name"]: s for s in specs}
        scale = config["depthScale"] if config["depthScale"] > 0 else 1
        self.depth_scale = scale

        def store(values, grad):
            out = {}
            for name, spec in self.specs.items():
                t = torch.tensor(np.asarray(values[name], dtype=np.float32))
                out[name] = t.requires_grad_(grad and spec["kind"] in TRAINABLE_KINDS)
            return out

        self.student = TwinNetwork(preset, config["method"], scale, store(student, True))
        self.teacher = TwinNetwork(preset, config["method"], scale, store(teacher, False))
        self.velocity = {}

    def trainable(self):
        return [n for n, s in self.specs.items() if s["kind"] in TRAINABLE_KINDS]

    def teacher_pseudo_labels(self, xt, iteration):
        """The teacher's pseudo-labels, confidence and q on clean target images (no running-statistics update)."""
        c = self.config
        with torch.no_grad():
            out = self.teacher.forward(xt, training=c["teacherBatchStats"])
            use_initial = iteration < c["teacherInitialHeadFraction"] * c["iters"]
            probs = torch.softmax(out["segInit"] if use_initial else out["seg"], dim=1)
            confidence, pseudo = probs.max(dim=1)
            pseudo = probs.argmax(dim=1)  # the first maximum, as tf.argMax
            q = (confidence >= c["confidenceThreshold"]).float().mean()
        return pseudo, confidence, q

    def compute_gradients(self, batch, iteration):
        """batch: source_rgb [B,H,W,3], source_labels [B,H,W] (int), source_depth, target_rgb, target_depth,
        target_labels (or None), mix_classes, augment, supervise. Returns losses, grads, bn stats, diagnostics."""
        c = self.config
        method = c["method"]
        # A round from scratch first learns the source alone (sourceWarmup, a share of the iterations).
        adapt = method != "source-only" and iteration >= c.get("sourceWarmup", 0) * c["iters"]
        with_depth = method == "corda"
        xs = batch["source_rgb"]
        if adapt and c.get("sourceRecolour", False):
            xs = recolour_to_target(xs, batch["target_rgb"])
        ys = batch["source_labels"]
        ds = batch["source_depth"] if with_depth else None
        mixed = None
        supervised = None
        diagnostics = {}
        if adapt:
            xt = batch["target_rgb"]
            dt = batch["target_depth"] if with_depth else None
            pseudo, confidence, q = self.teacher_pseudo_labels(xt, iteration)
            diagnostics.update(pseudo=pseudo, confidence=confidence)
            m = torch.stack([class_mask(ys[i], classes) for i, classes in enumerate(batch["mix_classes"])])
            x = augment_batch(mix(m, xs, xt), batch["augment"])
            corrected = batch.get("target_labels")
            y, weight, trusted = mixed_targets(m, ys, pseudo, q, corrected)
            if batch["supervise"]:
                labels = torch.full_like(pseudo, IGNORE) if corrected is None else torch.where(corrected < NUM_CLASSES, corrected, torch.full_like(corrected, IGNORE))
                supervised = (xt, labels)
            d = mix(m, ds, dt) if with_depth else None
            mixed = dict(x=x, y=y, d=d, m=m, weight=weight, q=q, trusted=trusted)
            diagnostics["mixed_input"] = x

        scale = self.depth_scale
        depth_loss = lambda pred, target: berhu(pred / scale, target / scale, valid_depth(target))  # noqa: E731
        stats = []
        parts = {}
        out_s = self.student.forward(xs, training=True, stats=stats)
        parts["sourceCe"] = cross_entropy(out_s["seg"], ys) + cross_entropy(out_s["segInit"], ys)
        total = parts["sourceCe"]
        if with_depth:
            parts["sourceDepth"] = depth_loss(out_s["depthSrc"], ds) + depth_loss(out_s["depthSrcInit"], ds)
            total = total + parts["sourceDepth"] * c["sourceDepthWeight"]
        if mixed:
            out_m = self.student.forward(mixed["x"], training=True, stats=stats)
            weight = mixed["weight"]
            if with_depth:
                wd = depth_discrepancy_weight(out_m["depthSrc"].detach(), out_m["depthTgt"].detach(), mixed["d"], c["referenceWeightSlip"])
                weighted = weight * wd
                weight = weighted * (1 - mixed["trusted"]) + mixed["trusted"] if mixed["trusted"] is not None else weighted
            parts["mixedCe"] = weighted_cross_entropy(out_m["seg"], mixed["y"], weight) + weighted_cross_entropy(out_m["segInit"], mixed["y"], weight)
            total = total + parts["mixedCe"]
            if with_depth:
                per_pixel = lambda a, b: mix(mixed["m"], out_m[a], out_m[b])  # noqa: E731
                parts["mixedDepth"] = depth_loss(per_pixel("depthSrc", "depthTgt"), mixed["d"]) + depth_loss(per_pixel("depthSrcInit", "depthTgtInit"), mixed["d"])
                total = total + parts["mixedDepth"] * c["mixedDepthWeight"]
        if supervised:
            out_t = self.student.forward(supervised[0], training=True, stats=stats)
            share = c.get("correctedMinShare", 0)
            parts["correctedCe"] = cross_entropy(out_t["seg"], supervised[1], share) + cross_entropy(out_t["segInit"], supervised[1], share)
            total = total + parts["correctedCe"]

        names = self.trainable()
        # A parameter the loss does not reach (e.g. the target depth heads in a source-only warm-up step) gets no
        # gradient and, as in tfjs's variableGrads, no update at all.
        grads = torch.autograd.grad(total, [self.student.params[n] for n in names], allow_unused=True)
        value = lambda key: float(parts[key]) if key in parts else 0.0  # noqa: E731
        losses = {
            "total": float(total), "sourceCe": value("sourceCe"), "sourceDepth": value("sourceDepth"),
            "mixedCe": value("mixedCe"), "mixedDepth": value("mixedDepth"), "correctedCe": value("correctedCe"),
            "confidentShare": float(mixed["q"]) if mixed else 0.0,
        }
        return losses, {n: g for n, g in zip(names, grads) if g is not None}, stats, diagnostics

    def apply(self, grads, stats, iteration):
        """SGD with momentum or Adam (poly lr, weight decay on 'weight' params, 10x group), running statistics, EMA.
        Momentum buffers by parameter name, Adam's moments as name#m and name#v (optim.ts)."""
        c = self.config
        base = scheduled_lr(c["lr"], iteration, c["iters"], c.get("lrWarmup", 0))
        params = self.student.params
        with torch.no_grad():
            for name, grad in grads.items():
                spec = self.specs[name]
                lr = base * c["headLrMultiplier"] if in_ten_x_group(name, spec["head"], c["tenXGroup"]) else base
                w = params[name]
                decayed = grad + w * c["weightDecay"] if spec["kind"] == "weight" else grad
                if c.get("optimizer", "sgd") == "adam":
                    zero = torch.zeros_like(w)
                    m = self.velocity.get(f"{name}#m", zero) * ADAM_BETA1 + decayed * (1 - ADAM_BETA1)
                    v = self.velocity.get(f"{name}#v", zero) * ADAM_BETA2 + decayed.square() * (1 - ADAM_BETA2)
                    self.velocity[f"{name}#m"], self.velocity[f"{name}#v"] = m, v
                    t = iteration + 1
                    m_hat, v_hat = m / (1 - ADAM_BETA1 ** t), v / (1 - ADAM_BETA2 ** t)
                    w.sub_(m_hat / (v_hat.sqrt() + ADAM_EPSILON) * lr)
                else:
                    v = self.velocity.get(name)
                    v = decayed.clone() if v is None else v * c["momentum"] + decayed
                    self.velocity[name] = v
                    w.sub_(v * lr)
            for mean_name, batch_mean, batch_var in stats:
                var_name = mean_name[: -len(".mean")] + ".var"
                params[mean_name].copy_(params[mean_name] * (1 - BN_MOMENTUM) + batch_mean * BN_MOMENTUM)
                params[var_name].copy_(params[var_name] * (1 - BN_MOMENTUM) + batch_var * BN_MOMENTUM)
            if c["method"] != "source-only":
                a = ema_decay(iteration, c["emaDecay"])
                for name, t in self.teacher.params.items():
                    t.copy_(t * a + params[name] * (1 - a))

    def load_snapshot(self, tensors):
        """Takes student/, teacher/ and momentum/ tensors (a Trainer.snapshot()) as this trainer's state."""
        with torch.no_grad():
            for prefix, store in (("student/", self.student.params), ("teacher/", self.teacher.params)):
                for name, t in store.items():
                    t.copy_(torch.from_numpy(np.asarray(tensors[prefix + name], dtype=np.float32)))
        self.velocity = {k[len("momentum/"):]: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in tensors.items() if k.startswith("momentum/")}

    def snapshot(self):
        """Student, teacher and momentum buffers by the names Trainer.snapshot() uses."""
        out = {}
        for name, t in self.student.params.items():
            out[f"student/{name}"] = t
        for name, t in self.teacher.params.items():
            out[f"teacher/{name}"] = t
        for name, v in self.velocity.items():
            out[f"momentum/{name}"] = v
        return out
