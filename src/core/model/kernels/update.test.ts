import * as tf from '../tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { Blend, SgdMomentumStep, blend, sgdMomentumStep } from './update';
import { on, randomValues, setupBackends } from './testUtil';

/** Values spread over many magnitudes (1e-6 to 1e2), so that every rounding of the composite shows. */
function spread(size: number, seed: number): tf.Tensor {
  const base = randomValues(size, seed);
  const exponent = randomValues(size, seed + 100);
  return tf.tensor1d(base.map((v, i) => v * 10 ** Math.round(4 * exponent[i]! - 2)));
}

const SGD_CASES = [
  { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
  { lr: 0.1 * 0.37, momentum: 0.9, weightDecay: 0 },
  { lr: 2.5e-4, momentum: 0.9, weightDecay: 5e-4 },
];

describe('fused parameter updates', () => {
  beforeAll(setupBackends);

  it.each(SGD_CASES)('the SGD momentum step equals the tfjs composite to the bit on wasm and cpu: %o', async (c) => {
    for (const backend of ['wasm', 'cpu'] as const) {
      const inputs = () => [spread(1003, 1), spread(1003, 2), spread(1003, 3)] as const;
      const composite = await on(backend, () => {
        const [w, g, v] = inputs();
        const decayed = c.weightDecay === 0 ? g : tf.add(g, tf.mul(w, c.weightDecay));
        const velocity = tf.add(tf.mul(v, c.momentum), decayed);
        return [tf.sub(w, tf.mul(velocity, c.lr)), velocity];
      });
      const fused = await on(backend, () => {
        const [w, g, v] = inputs();
        return sgdMomentumStep(w, g, v, c.lr, c.momentum, c.weightDecay);
      });
      expect(fused[0], `${backend} weights`).toEqual(composite[0]);
      expect(fused[1], `${backend} velocity`).toEqual(composite[1]);
    }
  });

  it('the blend a·x + b·y equals the tfjs composite to the bit on wasm and cpu', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      for (const a of [0.9, 0.99, 1 - 1 / 7, 0]) {
        const composite = await on(backend, () => tf.add(tf.mul(spread(777, 4), a), tf.mul(spread(777, 5), 1 - a)));
        const fused = await on(backend, () => blend(spread(777, 4), spread(777, 5), a, 1 - a));
        expect(fused[0], `${backend} a ${a}`).toEqual(composite[0]);
      }
    }
  });

  it('runs as one kernel per tensor on wasm, and as the composite where the backend lacks ours', async () => {
    await tf.setBackend('wasm');
    const [w, g, v] = [spread(64, 7), spread(64, 8), spread(64, 9)];
    const profile = await tf.profile(() => {
      tf.dispose([...sgdMomentumStep(w!, g!, v!, 0.01, 0.9, 5e-4), blend(w!, v!, 0.9, 0.1)]);
    });
    expect(profile.kernels.map((k) => k.name)).toEqual([SgdMomentumStep, Blend]);
    // Shapes that differ (a broadcast) take the composite, which broadcasts.
    const scalar = tf.scalar(2);
    const broadcast = await blend(w!, scalar, 1, 1).data();
    expect(broadcast[0]).toBeCloseTo((await w!.data())[0]! + 2, 5);
    tf.dispose([w!, g!, v!, scalar]);
  });
});
