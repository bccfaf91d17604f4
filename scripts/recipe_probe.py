"""A probe of the recipe and the network, independent of the engine: plain PyTorch modules, on the samples that
`corda export-samples` writes (the same working-size demo images the engine trains on). It answers "would a
different network or recipe adapt on this pair at all?" before anything is ported to the engine; the numbers it
gave are in the README (quality section, "Why").

Usage: /usr/bin/python3 scripts/recipe_probe.py SAMPLES_DIR ARCH METHOD ITERS SEED ['{"opt": "adam", ...}']
ARCH: tiny (the engine's tiny encoder and branch), tiny-dec (with a decoder to stride 2), wide (14x the
parameters), wide-dec. METHOD: source-only or dacs (ClassMix with an EMA teacher on the target batch's own batch
statistics and DACS's confidence weight). Options: opt (adam | sgd), lr, ema, warm (source-only share), strong_aug,
inorm (per-image input standardisation), transfer (source crops recoloured to a random target image's channel
statistics). Prints one JSON line: val mIoU at each quarter of the run, the teacher's, ms per step.
"""
import sys, os, json, time, math, random as pyrandom
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from twin_round import load_samples
NC, IGN = 19, 255
torch.set_num_threads(2)
S = sys.argv[1] if __name__ == '__main__' else os.environ['CORDA_PROBE_SAMPLES']
src = load_samples(S + '/source'); tgt = load_samples(S + '/target'); val = load_samples(S + '/val')
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1); STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

def cbr(i, o, s=1, k=3):
    return nn.Sequential(nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))
class Res(nn.Module):
    def __init__(s, i, o, st):
        super().__init__(); s.a = cbr(i, o, st); s.b = nn.Sequential(nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o))
        s.p = None if (st == 1 and i == o) else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x): return F.relu(s.b(s.a(x)) + (x if s.p is None else s.p(x)))
class Net(nn.Module):
    def __init__(s, widths, blocks, decoder, branch):
        super().__init__()
        s.stem = cbr(3, widths[0], 2)
        s.stages = nn.ModuleList()
        for i, w in enumerate(widths[1:]):
            layers = [Res(widths[i], w, 2)] + [Res(w, w, 1) for _ in range(blocks - 1)]
            s.stages.append(nn.Sequential(*layers))
        s.decoder = decoder
        s.branch = nn.Sequential(cbr(widths[-1], branch, 1, 1), Res(branch, branch, 1))
        if decoder:
            s.skip = nn.ModuleList([cbr(w, 16, 1, 1) for w in widths[:-1]])
            s.fuse = nn.ModuleList([cbr(branch + 16, branch, 1) for _ in widths[:-1]])
        s.head = nn.Conv2d(branch, NC, 3, 1, 1)
    def forward(s, x):
        h, w = x.shape[2:]
        if INORM['on']:
            m = x.mean((2, 3), keepdim=True); sd = x.std((2, 3), keepdim=True) + 1e-3
            x = (x - m) / sd
        else:
            x = (x / 255 - MEAN) / STD
        feats = [s.stem(x)]
        for st in s.stages: feats.append(st(feats[-1]))
        y = s.branch(feats[-1])
        if s.decoder:
            for k in range(len(feats) - 2, -1, -1):
                if k < len(feats) - 1 - s.decoder: break
                f = feats[k]
                y = F.interpolate(y, size=f.shape[2:], mode='bilinear', align_corners=False)
                y = s.fuse[k](torch.cat([y, s.skip[k](f)], 1))
        return F.interpolate(s.head(y), size=(h, w), mode='bilinear', align_corners=False)

INORM = {'on': False}
TRANSFER = {'on': False}
TSTATS = {}
CW, CH = 256, 128
def crop(sm, rng, key='labels'):
    s = sm[rng.randrange(len(sm))]; x = rng.randrange(s['width'] - CW + 1); y = rng.randrange(s['height'] - CH + 1)
    rgb = s['rgb'][y:y + CH, x:x + CW].astype(np.float32)
    lab = None if s.get(key) is None else s[key][y:y + CH, x:x + CW]
    return rgb, lab
def batch(sm, rng, n=2):
    cs = [crop(sm, rng) for _ in range(n)]
    x = torch.from_numpy(np.stack([c[0] for c in cs])).permute(0, 3, 1, 2).contiguous()
    y = None if cs[0][1] is None else torch.from_numpy(np.stack([c[1] for c in cs]).astype(np.int64))
    return x, y
def jitter(x, rng):
    out = []
    for i in range(x.shape[0]):
        xi = x[i]
        if rng.random() < 0.8:
            b = 1 + (rng.random() * 2 - 1) * .25; c = 1 + (rng.random() * 2 - 1) * .25
            m = xi.mean(); xi = ((xi * b - m) * c + m).clamp(0, 255)
        out.append(xi)
    return torch.stack(out)

STRONG = {'on': False, 'hue': 0.5, 'sat': (0.0, 1.5), 'noise': 8.0, 'gray': 0.2}
def strong(x, rng):
    out = []
    for i in range(x.shape[0]):
        xi = x[i] / 255
        b = 1 + (rng.random() * 2 - 1) * .4; c = 1 + (rng.random() * 2 - 1) * .4
        m = xi.mean(); xi = ((xi * b - m) * c + m)
        gray = (0.299 * xi[0] + 0.587 * xi[1] + 0.114 * xi[2])[None]
        sat = 0.0 if rng.random() < STRONG['gray'] else rng.uniform(*STRONG['sat'])
        xi = gray + (xi - gray) * sat
        th = (rng.random() * 2 - 1) * STRONG['hue'] * 2 * math.pi
        # hue rotation in YIQ
        T = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
        R = torch.tensor([[1, 0, 0], [0, math.cos(th), -math.sin(th)], [0, math.sin(th), math.cos(th)]])
        M = torch.linalg.inv(T) @ R @ T
        xi = torch.einsum('ij,jhw->ihw', M, xi)
        xi = xi * 255 + torch.randn_like(xi) * rng.random() * STRONG['noise']
        out.append(xi.clamp(0, 255))
    return torch.stack(out)

def recolour(x, rng):
    out = []
    for i in range(x.shape[0]):
        t = tgt[rng.randrange(len(tgt))]['rgb'].astype(np.float32)
        tm = torch.tensor(t.reshape(-1, 3).mean(0)).view(3, 1, 1); ts = torch.tensor(t.reshape(-1, 3).std(0)).view(3, 1, 1)
        xi = x[i]; m = xi.mean((1, 2), keepdim=True); sd = xi.std((1, 2), keepdim=True) + 1e-3
        out.append(((xi - m) / sd * ts + tm).clamp(0, 255))
    return torch.stack(out)

def evaluate(net):
    net.eval(); conf = np.zeros((NC, NC), np.int64)
    with torch.no_grad():
        for s in val:
            h, w = s['height'], s['width']; ph, pw = -(-h // 16) * 16, -(-w // 16) * 16
            x = torch.zeros(1, 3, ph, pw); x[0, :, :h, :w] = torch.from_numpy(s['rgb'].astype(np.float32)).permute(2, 0, 1)
            lg = net(x)[:, :, :h, :w]; gh, gw = s['gt'].shape
            p = F.interpolate(lg, size=(gh, gw), mode='bilinear', align_corners=False).argmax(1)[0].numpy().ravel()
            g = s['gt'].ravel().astype(np.int64); k = g < NC
            np.add.at(conf, (g[k], p[k]), 1)
    net.train()
    tp = np.diag(conf).astype(float); d = conf.sum(0) + conf.sum(1) - tp
    ious = [tp[c] / d[c] for c in range(NC) if conf[c].sum() > 0]
    return 100 * float(np.mean(ious))

def run(arch, method, iters, seed, opt='adam', lr=None, ema=0.99, warm=0.2, strong_aug=False, inorm=False, transfer=False):
    STRONG['on'] = strong_aug; INORM['on'] = inorm; TRANSFER['on'] = transfer
    torch.manual_seed(seed); rng = pyrandom.Random(seed)
    net = Net(**arch); teacher = Net(**arch); teacher.load_state_dict(net.state_dict())
    for p in teacher.parameters(): p.requires_grad_(False)
    params = sum(p.numel() for p in net.parameters())
    if opt == 'adam': o = torch.optim.Adam(net.parameters(), lr=lr or 1e-3, weight_decay=0)
    else: o = torch.optim.SGD(net.parameters(), lr=lr or 0.01, momentum=0.9, weight_decay=5e-4)
    base = o.param_groups[0]['lr']; t0 = time.time(); curve = []
    for it in range(iters):
        for g in o.param_groups: g['lr'] = base * (1 - it / iters) ** 0.9
        xs, ys = batch(src, rng)
        if TRANSFER['on']: xs = recolour(xs, rng)
        loss = F.cross_entropy(net(strong(xs, rng) if STRONG['on'] else jitter(xs, rng)), ys, ignore_index=IGN)
        if method == 'dacs' and it >= warm * iters:
            xt, _ = batch(tgt, rng)
            with torch.no_grad():
                teacher.train()  # batch statistics, as the reference (its EMA model is never put in eval mode)
                prob = F.softmax(teacher(xt), 1); mp, pl = prob.max(1)
            masks = []
            for i in range(xs.shape[0]):
                cls = [c for c in torch.unique(ys[i]).tolist() if c != IGN]; rng.shuffle(cls)
                cls = torch.tensor(cls[:math.ceil(len(cls) / 2)], dtype=torch.long)
                masks.append(torch.isin(ys[i], cls))
            m = torch.stack(masks).float()
            xm = m[:, None] * xs + (1 - m[:, None]) * xt
            ym = torch.where(m.bool(), ys, pl)
            q = (mp > 0.968).float().mean(); wgt = torch.where(m.bool(), torch.ones_like(mp), q.expand_as(mp))
            ce = F.cross_entropy(net(strong(xm, rng) if STRONG['on'] else jitter(xm, rng)), ym, ignore_index=IGN, reduction='none')
            loss = loss + (ce * wgt * (ym != IGN)).mean()
        o.zero_grad(); loss.backward(); o.step()
        with torch.no_grad():
            a = min(1 - 1 / (it + 1), ema)
            for pt, ps in zip(teacher.parameters(), net.parameters()): pt.mul_(a).add_(ps, alpha=1 - a)
            for bt, bs in zip(teacher.buffers(), net.buffers()): bt.copy_(bs)
        if (it + 1) % max(1, iters // 4) == 0: curve.append(round(evaluate(net), 1))
    per_class_val = per_class(net, val, 'gt'); per_class_source = per_class(net, src[:10], 'labels')
    return {'perClassVal': per_class_val, 'perClassSourceFit': per_class_source, 'params': params, 'curve': curve, 'final': curve[-1], 'teacher': round(evaluate(teacher), 1), 'ms': round((time.time() - t0) * 1000 / iters)}

ARCHS = {
    'tiny': dict(widths=[16, 24, 32], blocks=1, decoder=0, branch=32),
    'tiny-dec': dict(widths=[16, 24, 32], blocks=1, decoder=2, branch=32),
    'wide': dict(widths=[32, 64, 128], blocks=2, decoder=0, branch=64),
    'wide-dec': dict(widths=[32, 64, 128], blocks=2, decoder=2, branch=64),
}
def per_class(net, samples, key):
    net.eval(); conf = np.zeros((NC, NC), np.int64)
    with torch.no_grad():
        for s in samples:
            h, w = s['height'], s['width']; ph, pw = -(-h // 16) * 16, -(-w // 16) * 16
            x = torch.zeros(1, 3, ph, pw); x[0, :, :h, :w] = torch.from_numpy(s['rgb'].astype(np.float32)).permute(2, 0, 1)
            lg = net(x)[:, :, :h, :w]; gt = s[key]; gh, gw = gt.shape
            p = F.interpolate(lg, size=(gh, gw), mode='bilinear', align_corners=False).argmax(1)[0].numpy().ravel()
            g = gt.ravel().astype(np.int64); k = g < NC
            np.add.at(conf, (g[k], p[k]), 1)
    tp = np.diag(conf).astype(float); d = conf.sum(0) + conf.sum(1) - tp
    return {c: round(100 * tp[c] / d[c]) for c in range(NC) if conf[c].sum() > 0}


if __name__ == '__main__':
    arch, method, iters, seed = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    kw = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
    print(json.dumps({'arch': arch, 'method': method, 'iters': iters, 'seed': seed, **kw, **run(ARCHS[arch], method, iters, seed, **kw)}), flush=True)
