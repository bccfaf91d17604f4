import * as tf from '../tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { SoftmaxCrossEntropyGrad, softmaxCrossEntropyGrad } from './crossEntropyGrad';
import { on, randomValues, setupBackends } from './testUtil';

const [B, H, W, C] = [2, 5, 7, 19];

function inputs() {
  const probs = tf.softmax(tf.tensor4d(randomValues(B * H * W * C, 1).map((v) => v * 8), [B, H, W, C]));
  const labels = tf.tensor3d(Int32Array.from(randomValues(B * H * W, 2), (v) => Math.floor((v + 1) * 11) - 2), [B, H, W], 'int32');
  const valid = tf.cast(tf.greaterEqual(labels, 0), 'float32') as tf.Tensor3D;
  const targets = tf.cast(tf.oneHot(labels, C), 'float32') as tf.Tensor4D;
  // dy spread over magnitudes, with zeros (pixels that weigh nothing).
  const dy = tf.tensor3d(randomValues(B * H * W, 3).map((v, i) => (i % 9 === 0 ? 0 : v * 10 ** ((i % 7) - 4))), [B, H, W]);
  return { probs: probs as tf.Tensor4D, targets, valid, dy };
}

describe('fused softmax cross-entropy gradient', () => {
  beforeAll(setupBackends);

  it('equals the tfjs composite to the bit on wasm and cpu', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      expect(tf.getKernel(SoftmaxCrossEntropyGrad, backend), backend).toBeDefined();
      const composite = await on(backend, () => {
        const { probs, targets, valid, dy } = inputs();
        return tf.mul(tf.sub(tf.mul(probs, tf.expandDims(valid, -1)), targets), tf.expandDims(dy, -1));
      });
      const fused = await on(backend, () => {
        const { probs, targets, valid, dy } = inputs();
        return softmaxCrossEntropyGrad(probs, targets, valid, dy);
      });
      expect(fused[0], backend).toEqual(composite[0]);
      // Not trivially zero: ignored pixels (label < 0) and weightless ones are, the rest is not.
      expect(fused[0]!.filter((v) => v !== 0).length).toBeGreaterThan(fused[0]!.length / 2);
    }
  });

  it('refuses inputs whose shapes do not fit, in one sentence', async () => {
    await tf.setBackend('wasm');
    const p = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expect(() => softmaxCrossEntropyGrad(p, p, tf.zeros([1, 2, 3]) as tf.Tensor3D, tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(/do not fit/);
    tf.dispose(p);
  });
});
