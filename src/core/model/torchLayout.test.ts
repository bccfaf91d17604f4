import { describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { CordaNetwork, PRESETS } from './network';
import type { ParamSpec } from './params';
import { matchReport } from './torchCheckpoint';
import { torchName, torchShape, torchStateDictShapes, withSmallEncoderNames } from './torchLayout';

const spec = (name: string, shape: number[], kind: ParamSpec['kind']): ParamSpec => ({ name, shape, kind, head: false });

describe('PyTorch names and layouts of parameters', () => {
  it('keeps PyTorch names and maps the short suffixes', () => {
    expect(torchName(spec('layer1.0.bn1.running_var', [64], 'bn-var'))).toBe('layer1.0.bn1.running_var');
    expect(torchName(spec('enc.stem.bn.scale', [64], 'bn-scale'))).toBe('enc.stem.bn.weight');
    expect(torchName(spec('enc.stem.bn.offset', [64], 'bn-offset'))).toBe('enc.stem.bn.bias');
    expect(torchName(spec('enc.stem.bn.mean', [64], 'bn-mean'))).toBe('enc.stem.bn.running_mean');
    expect(torchName(spec('head.seg.w', [1, 1, 8, 19], 'weight'))).toBe('head.seg.weight');
  });

  it('turns tfjs filter layouts into PyTorch ones', () => {
    expect(torchShape(spec('conv1.weight', [7, 7, 3, 64], 'weight'))).toEqual([64, 3, 7, 7]);
    expect(torchShape(spec('enc.block_1_depthwise.dw', [3, 3, 96, 1], 'weight'))).toEqual([96, 1, 3, 3]);
    expect(torchShape(spec('fc.weight', [512, 10], 'weight'))).toEqual([10, 512]);
    expect(torchShape(spec('bn1.weight', [64], 'bn-scale'))).toEqual([64]);
  });
});

/** torchvision's mobilenet_v2() state dict, keys and shapes (its inverted-residual table: t, c, n, s). */
function torchvisionMobileNetV2Shapes(): Map<string, { shape: number[] }> {
  const shapes = new Map<string, { shape: number[] }>();
  const bn = (prefix: string, c: number) => {
    for (const s of ['weight', 'bias', 'running_mean', 'running_var']) shapes.set(`${prefix}.${s}`, { shape: [c] });
    shapes.set(`${prefix}.num_batches_tracked`, { shape: [] });
  };
  shapes.set('features.0.0.weight', { shape: [32, 3, 3, 3] });
  bn('features.0.1', 32);
  let index = 1;
  let inCh = 32;
  for (const [t, c, n] of [[1, 16, 1], [6, 24, 2], [6, 32, 3], [6, 64, 4], [6, 96, 3], [6, 160, 3], [6, 320, 1]] as const) {
    for (let i = 0; i < n; i++, index++) {
      const p = `features.${index}.conv`;
      const hidden = inCh * t;
      if (t === 1) {
        shapes.set(`${p}.0.0.weight`, { shape: [hidden, 1, 3, 3] });
        bn(`${p}.0.1`, hidden);
        shapes.set(`${p}.1.weight`, { shape: [c, hidden, 1, 1] });
        bn(`${p}.2`, c);
      } else {
        shapes.set(`${p}.0.0.weight`, { shape: [hidden, inCh, 1, 1] });
        bn(`${p}.0.1`, hidden);
        shapes.set(`${p}.1.0.weight`, { shape: [hidden, 1, 3, 3] });
        bn(`${p}.1.1`, hidden);
        shapes.set(`${p}.2.weight`, { shape: [c, hidden, 1, 1] });
        bn(`${p}.3`, c);
      }
      inCh = c;
    }
  }
  shapes.set('features.18.0.weight', { shape: [1280, 320, 1, 1] });
  bn('features.18.1', 1280);
  shapes.set('classifier.1.weight', { shape: [1000, 1280] });
  shapes.set('classifier.1.bias', { shape: [1000] });
  return shapes;
}

describe("torchvision's ImageNet MobileNetV2 as the small encoder", () => {
  it('names every parameter of the small encoder, with its shape, and leaves what small leaves out unexpected', async () => {
    await initBackend('cpu');
    const network = new CordaNetwork(PRESETS.small, 'corda', 0).build();
    try {
      const { tensors, renamed } = withSmallEncoderNames(torchvisionMobileNetV2Shapes());
      expect(renamed).toBe(true);
      const report = matchReport(tensors, torchStateDictShapes(network));
      const encoder = [...network.params.specs.values()].filter((s) => s.name.startsWith('enc.'));
      expect(report.shapeMismatches).toEqual([]);
      expect(report.loaded.length).toBe(encoder.length);
      expect(report.missing.every((name) => !name.startsWith('enc.'))).toBe(true);
      expect(report.unexpected.length).toBeGreaterThan(0);
      expect(report.unexpected.every((name) => /^(features\.(1[4-8])\.|classifier\.)/.test(name))).toBe(true);
    } finally {
      network.params.dispose();
    }
  });

  it('leaves any other state dict as it is', () => {
    const other = new Map([['features.0.weight', 1], ['conv1.weight', 2]]);
    expect(withSmallEncoderNames(other)).toEqual({ tensors: other, renamed: false });
  });
});
