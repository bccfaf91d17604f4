import { describe, expect, it } from 'vitest';
import type { ParamSpec } from './params';
import { torchName, torchShape } from './torchLayout';

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
