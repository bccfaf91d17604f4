import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../model/tf';
import { initBackend } from '../model/backend';
import { ParamStore } from '../model/params';
import { inTenXGroup, Sgd, type SgdConfig } from './optim';

beforeAll(async () => {
  await initBackend('wasm');
});

const config = (overrides: Partial<SgdConfig>): SgdConfig => ({
  optimizer: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0, headLrMultiplier: 10, tenXGroup: 'heads', power: 0.9, totalIters: 1000, ...overrides,
});

describe('parameter groups', () => {
  it("takes the heads only, or everything after the encoder as the reference's 10x group", () => {
    expect(inTenXGroup('head.seg.r1.w', true, 'heads')).toBe(true);
    expect(inTenXGroup('sem.block.a.conv.w', false, 'heads')).toBe(false);
    for (const name of ['sem.block.a.conv.w', 'depth.in.conv.w', 'distil.to_sem.msg.w']) expect(inTenXGroup(name, false, 'reference')).toBe(true);
    expect(inTenXGroup('enc.stem.conv.w', false, 'reference')).toBe(false);
  });
});

describe('weight decay scope', () => {
  it("decays weights only, or every parameter with a gradient as torch.optim.SGD (paper)", async () => {
    for (const scope of ['weights', 'all'] as const) {
      const params = new ParamStore(() => 0.5);
      const bias = params.get('heads.S.conv2d_list.0.bias', [1], 'bias');
      bias.assign(tf.tensor1d([2]));
      const sgd = new Sgd(config({ lr: 0.1, momentum: 0, weightDecay: 0.5, headLrMultiplier: 1, power: 0, weightDecayScope: scope }));
      const zero = tf.tensor1d([0]);
      sgd.step(params, { 'heads.S.conv2d_list.0.bias': zero }, 0);
      // 'all': 2 - 0.1 · (0 + 0.5 · 2) = 1.9
      expect((await bias.data())[0]).toBeCloseTo(scope === 'all' ? 1.9 : 2, 6);
      tf.dispose(zero);
      sgd.dispose();
      params.dispose();
    }
  });
});

describe('Adam', () => {
  it('moves a weight by lr · m̂ / (√v̂ + ε), bias-corrected from the first step', async () => {
    const params = new ParamStore(() => 0.5);
    const w = params.get('enc.x.b', [2], 'bias');
    const adam = new Sgd(config({ optimizer: 'adam', lr: 0.01, power: 0 }));
    const g1 = tf.tensor1d([0.5, -2]);
    adam.step(params, { 'enc.x.b': g1 }, 0);
    // First step: m̂ = g, v̂ = g², so each weight moves by lr · sign(g).
    expect(Array.from(await w.data()).map((v) => Number(v.toFixed(5)))).toEqual([-0.01, 0.01]);
    const g2 = tf.tensor1d([0.5, 2]);
    adam.step(params, { 'enc.x.b': g2 }, 1);
    const m = [0.9 * 0.05 + 0.05, 0.9 * -0.2 + 0.2].map((v) => v / (1 - 0.81));
    const v = [0.25, 4].map((g2v) => (0.999 * 0.001 * g2v + 0.001 * g2v) / (1 - 0.999 ** 2));
    const expected = [-0.01, 0.01].map((start, i) => start - (0.01 * m[i]!) / (Math.sqrt(v[i]!) + 1e-8));
    const got = Array.from(await w.data());
    for (let i = 0; i < 2; i++) expect(got[i]).toBeCloseTo(expected[i]!, 6);
    expect(adam.state().size).toBe(2);
    tf.dispose([g1, g2]);
    adam.dispose();
    params.dispose();
  });
});
