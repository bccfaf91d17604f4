import * as tf from '../tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNormTraining, BatchNormTrainingGrad, trainingBatchNorm, type BatchNormActivation } from './batchNormTraining';
import { on, randomValues, relDiff, setupBackends } from './testUtil';
import { simdKernels, simdOptions } from './simd';

type Fn = (x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D) => { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D };

/** tfjs's composite, as network.ts ran it before the fused kernels. */
function composite(epsilon: number, activation: BatchNormActivation): Fn {
  return (x, scale, offset) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const z = tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, offset, scale, epsilon);
    const y = activation === 'relu' ? tf.relu(z) : activation === 'relu6' ? (tf.relu6(z) as tf.Tensor4D) : z;
    return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  };
}

const fused = (epsilon: number, activation: BatchNormActivation): Fn => (x, scale, offset) => trainingBatchNorm(x, scale, offset, epsilon, activation);

/**
 * Outputs (y, mean, variance) and gradients (x, scale, offset) of a loss that weights y by fixed random values;
 * with `throughStats` the loss also uses the mean and variance, so gradients flow through them too.
 */
function run(fn: Fn, shape: [number, number, number, number], seed: number, throughStats = false) {
  return () => {
    const c = shape[3];
    const size = shape.reduce((a, b) => a * b, 1);
    // Mean ~3, spread ~2: statistics far from 0/1, so errors in either show.
    const x = tf.add(tf.mul(tf.tensor4d(randomValues(size, seed), shape), 2), 3) as tf.Tensor4D;
    // Scales up to ~4 and offsets in [0, 2): some outputs fall below 0 and some above 6.
    const scale = tf.mul(tf.tensor1d(randomValues(c, seed + 1)), 4) as tf.Tensor1D;
    const offset = tf.add(tf.tensor1d(randomValues(c, seed + 2)), 1) as tf.Tensor1D;
    const weights = tf.tensor4d(randomValues(size, seed + 3), shape);
    const loss = (xi: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      const out = fn(xi as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D);
      const main = tf.sum(tf.mul(out.y, weights));
      if (!throughStats) return main;
      return tf.add(main, tf.add(tf.sum(tf.mul(out.mean, 0.7)), tf.sum(tf.mul(out.variance, -0.3))));
    };
    const out = fn(x, scale, offset);
    const grads = tf.grads(loss)([x, scale, offset]);
    return [out.y, out.mean, out.variance, ...grads];
  };
}

const SHAPES: [number, number, number, number][] = [
  [2, 9, 7, 5],
  [1, 13, 11, 3],
  [3, 5, 4, 16],
  [2, 1, 1, 7], // two values per channel
  [2, 6, 5, 24],
];
const NAMES = ['y', 'mean', 'variance', 'dx', 'dscale', 'doffset'];

describe('fused training batch norm', () => {
  beforeAll(setupBackends);

  const cases = SHAPES.flatMap((shape) =>
    ([1e-5, 1e-3] as const).flatMap((epsilon) => (['linear', 'relu', 'relu6'] as const).map((act) => ({ shape, epsilon, act }))),
  );
  it.each(cases.map((c) => [`[${c.shape}] eps ${c.epsilon} ${c.act}`, c] as const))('matches the tfjs composite on wasm and cpu: %s', async (_n, c) => {
    for (const backend of ['wasm', 'cpu'] as const) {
      const ref = await on(backend, run(composite(c.epsilon, c.act), c.shape, 11));
      const got = await on(backend, run(fused(c.epsilon, c.act), c.shape, 11));
      // Float32 composite against float64 sums: within 1e-5 of the larger of 1 and the largest reference value.
      for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!), `${backend} ${NAMES[i]}`).toBeLessThan(1e-5);
    }
  });

  it('computes the same bits with the wasm SIMD kernels as with the JavaScript loops (channels in fours)', async () => {
    expect(simdKernels(tf.findBackend('wasm')!), 'the wasm SIMD kernels load').not.toBeNull();
    for (const shape of [[3, 5, 4, 16], [2, 6, 5, 24], [1, 3, 2, 4]] as [number, number, number, number][]) {
      for (const act of ['linear', 'relu', 'relu6'] as const) {
        for (const throughStats of [false, true]) {
          simdOptions.enabled = false;
          const js = await on('wasm', run(fused(1e-5, act), shape, 7, throughStats));
          simdOptions.enabled = true;
          const simd = await on('wasm', run(fused(1e-5, act), shape, 7, throughStats));
          for (let i = 0; i < js.length; i++) expect(simd[i], `[${shape}] ${act} ${NAMES[i]}`).toEqual(js[i]);
        }
      }
    }
  });

  it('relu6 cuts both ends in the cases above (so the gates are tested)', async () => {
    const [y] = await on('wasm', run(fused(1e-5, 'relu6'), SHAPES[0]!, 11));
    expect(y!.some((v) => v === 0)).toBe(true);
    expect(y!.some((v) => v === 6)).toBe(true);
    expect(y!.some((v) => v > 0 && v < 6)).toBe(true);
  });

  it('passes gradients through the returned mean and variance as the composite does', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      const ref = await on(backend, run(composite(1e-3, 'relu'), [2, 6, 5, 4], 21, true));
      const got = await on(backend, run(fused(1e-3, 'relu'), [2, 6, 5, 4], 21, true));
      for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!), `${backend} ${NAMES[i]}`).toBeLessThan(1e-5);
    }
  });

  it('runs as one kernel forward and one backward on wasm, and falls back to the composite elsewhere', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(randomValues(2 * 4 * 3 * 8, 5), [2, 4, 3, 8]);
    const scale = tf.ones([8]) as tf.Tensor1D;
    const offset = tf.zeros([8]) as tf.Tensor1D;
    const profile = await tf.profile(() => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(trainingBatchNorm(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, 1e-5, 'relu').y))([x, scale, offset]);
      tf.dispose(grads);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === BatchNormTraining).length).toBe(1);
    expect(names.filter((n) => n === BatchNormTrainingGrad).length).toBe(1);
    expect(names).not.toContain('Relu');
    expect(names).not.toContain('FusedBatchNorm');
    tf.dispose([x, scale, offset]);
  });
});
