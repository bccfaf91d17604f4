import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { on, randomValues, relDiff, setupBackends } from './testUtil';

type Dtype = 'float32' | 'int32' | 'bool';
const CASES: { shape: number[]; block: number[]; paddings: number[][]; dtype: Dtype }[] = [
  { shape: [2, 16, 32, 32], block: [2, 2], paddings: [[2, 2], [2, 2]], dtype: 'float32' }, // tiny's rate-2 head
  { shape: [1, 13, 9, 3], block: [3, 3], paddings: [[3, 5], [3, 6]], dtype: 'float32' }, // odd sizes, uneven padding
  { shape: [3, 4, 6, 1], block: [2, 3], paddings: [[0, 0], [0, 0]], dtype: 'int32' },
  { shape: [2, 5, 5, 2], block: [1, 1], paddings: [[1, 0], [0, 2]], dtype: 'bool' },
];

function input(shape: number[], dtype: Dtype): tf.Tensor4D {
  const v = randomValues(shape.reduce((a, b) => a * b, 1), 7);
  if (dtype === 'float32') return tf.tensor4d(v, shape as [number, number, number, number]);
  const ints = tf.tensor4d(Int32Array.from(v, (e) => Math.round(e * 50)), shape as [number, number, number, number], 'int32');
  return dtype === 'bool' ? (tf.greater(ints, 0) as tf.Tensor4D) : ints;
}

describe('wasm SpaceToBatchND and BatchToSpaceND', () => {
  beforeAll(setupBackends);

  it.each(CASES.map((c) => [`${c.dtype} [${c.shape}] block [${c.block}] pad ${JSON.stringify(c.paddings)}`, c] as const))(
    'match cpu exactly and invert each other: %s',
    async (_n, c) => {
      const run = () => {
        const x = input(c.shape, c.dtype);
        const blocks = tf.spaceToBatchND(x, c.block, c.paddings);
        // Cropping what was padded gives x back; cropping one row/column less at the end keeps a padded strip.
        const back = tf.batchToSpaceND(blocks, c.block, c.paddings);
        const partial = tf.batchToSpaceND(blocks, c.block, [[c.paddings[0]![0]!, 0], [0, c.paddings[1]![1]!]]);
        return [blocks, back, partial, x].map((t) => tf.cast(t, 'float32'));
      };
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      for (let i = 0; i < 3; i++) expect(Array.from(got[i]!)).toEqual(Array.from(ref[i]!));
      expect(Array.from(got[1]!)).toEqual(Array.from(got[3]!));
    },
  );

  it("a dilated 3x3 convolution through space-to-batch (network.ts's atrous branch) has the same gradients on wasm as on cpu", async () => {
    const rate = 2;
    const net = () => {
      const x = tf.tensor4d(randomValues(2 * 10 * 14 * 4, 1), [2, 10, 14, 4]);
      const w = tf.tensor4d(randomValues(3 * 3 * 4 * 5, 2), [3, 3, 4, 5]);
      const f = (a: tf.Tensor, b: tf.Tensor) => {
        const blocks = tf.spaceToBatchND(a, [rate, rate], [[rate, rate], [rate, rate]]) as tf.Tensor4D;
        const y = tf.batchToSpaceND(tf.conv2d(blocks, b as tf.Tensor4D, 1, 'valid'), [rate, rate], [[0, 0], [0, 0]]);
        return tf.sum(tf.mul(y, tf.tensor(randomValues(y.size, 3), y.shape)));
      };
      return tf.grads(f)([x, w]);
    };
    const ref = await on('cpu', net);
    const got = await on('wasm', net);
    for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!)).toBeLessThan(1e-5);
  });
});
