import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { on, randomValues, relDiff, setupBackends } from './testUtil';

const CASES: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
  { shape: [1, 1, 1, 16], reps: [2, 13, 9, 1], dtype: 'float32' }, // batch-norm statistics to activations
  { shape: [2, 3, 5, 3], reps: [1, 2, 1, 3], dtype: 'float32' },
  { shape: [7], reps: [5], dtype: 'int32' },
  { shape: [3, 4], reps: [3, 1], dtype: 'bool' },
  { shape: [2, 1, 3, 1, 2], reps: [2, 3, 1, 4, 2], dtype: 'float32' },
  { shape: [2, 3], reps: [1, 1], dtype: 'int32' },
  { shape: [0, 3], reps: [2, 2], dtype: 'float32' },
];

describe('wasm Tile', () => {
  beforeAll(setupBackends);

  it.each(CASES.map((c) => [`${c.dtype} [${c.shape}] x [${c.reps}]`, c] as const))('matches cpu exactly: %s', async (_n, c) => {
    const make = () => {
      const size = c.shape.reduce((a, b) => a * b, 1);
      const v = randomValues(size, 3);
      const x = c.dtype === 'float32' ? tf.tensor(v, c.shape)
        : tf.tensor(Int32Array.from(v, (e) => Math.round(e * 50)), c.shape, 'int32');
      const typed = c.dtype === 'bool' ? tf.greater(x, 0) : x;
      return tf.cast(tf.tile(typed, c.reps), 'float32');
    };
    const [ref] = await on('cpu', make);
    const [got] = await on('wasm', make);
    expect(Array.from(got!)).toEqual(Array.from(ref!));
  });

  it('batch-norm gradients (the main user of Tile) agree on cpu and wasm', async () => {
    const net = () => {
      const x = tf.tensor4d(randomValues(2 * 9 * 7 * 8, 1), [2, 9, 7, 8]);
      const gamma = tf.tensor1d(randomValues(8, 2));
      const beta = tf.tensor1d(randomValues(8, 3));
      const f = (input: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(input, [0, 1, 2]);
        const y = tf.batchNorm(input, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5);
        return tf.sum(tf.mul(tf.relu(y), tf.tensor(randomValues(y.size, 4), y.shape)));
      };
      return tf.grads(f)([x, gamma, beta]);
    };
    const ref = await on('cpu', net);
    const got = await on('wasm', net);
    for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!)).toBeLessThan(1e-4);
  });
});
