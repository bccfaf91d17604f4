import * as tf from '../tf';
import { beforeAll, describe, expect, it } from 'vitest';
import { PickClass, SoftmaxCrossEntropyGrad, pickClass, softmaxCrossEntropyGrad } from './crossEntropyGrad';
import { on, randomValues, setupBackends } from './testUtil';
import { simdKernels, simdOptions } from './simd';

const [B, H, W, C] = [2, 5, 7, 19];

function inputs() {
  const probs = tf.softmax(tf.tensor4d(randomValues(B * H * W * C, 1).map((v) => v * 8), [B, H, W, C])) as tf.Tensor4D;
  // Classes from −2 to 19: indices outside [0, C) are ignored pixels (an all-zero one-hot row).
  const classes = tf.tensor3d(Int32Array.from(randomValues(B * H * W, 2), (v) => Math.floor((v + 1) * 11) - 2), [B, H, W], 'int32');
  const valid = tf.cast(tf.logicalAnd(tf.greaterEqual(classes, 0), tf.less(classes, C)), 'float32') as tf.Tensor3D;
  const targets = tf.cast(tf.oneHot(classes, C), 'float32') as tf.Tensor4D;
  // dy spread over magnitudes, with zeros (pixels that weigh nothing).
  const dy = tf.tensor3d(randomValues(B * H * W, 3).map((v, i) => (i % 9 === 0 ? 0 : v * 10 ** ((i % 7) - 4))), [B, H, W]);
  return { probs, classes, targets, valid, dy };
}

describe('fused softmax cross-entropy kernels', () => {
  beforeAll(setupBackends);

  it('give the gradient of the tfjs composite to the bit on wasm (SIMD and JavaScript) and cpu', async () => {
    expect(simdKernels(tf.findBackend('wasm')!), 'the wasm SIMD kernels load').not.toBeNull();
    for (const [backend, simd] of [['wasm', true], ['wasm', false], ['cpu', false]] as const) {
      expect(tf.getKernel(SoftmaxCrossEntropyGrad, backend), backend).toBeDefined();
      const composite = await on(backend, () => {
        const { probs, targets, valid, dy } = inputs();
        return tf.mul(tf.sub(tf.mul(probs, tf.expandDims(valid, -1)), targets), tf.expandDims(dy, -1));
      });
      simdOptions.enabled = simd;
      try {
        const fused = await on(backend, () => {
          const { probs, classes, valid, dy } = inputs();
          return softmaxCrossEntropyGrad(probs, classes, valid, dy);
        });
        expect(fused[0], `${backend}, SIMD ${simd}`).toEqual(composite[0]);
        // Not trivially zero: ignored pixels and weightless ones are, the rest is not.
        expect(fused[0]!.filter((v) => v !== 0).length).toBeGreaterThan(fused[0]!.length / 2);
      } finally {
        simdOptions.enabled = true;
      }
    }
  });

  it("pick each pixel's class probability as the one-hot sum does, 0 where ignored", async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      expect(tf.getKernel(PickClass, backend), backend).toBeDefined();
      const composite = await on(backend, () => {
        const { probs, targets } = inputs();
        return tf.sum(tf.mul(probs, targets), -1);
      });
      const [picked, classes] = await on(backend, () => {
        const { probs, classes } = inputs();
        return [pickClass(probs, classes), tf.cast(classes, 'float32')];
      });
      expect(picked, backend).toEqual(composite[0]);
      const ignored = [...classes!].map((k, i) => (k < 0 || k >= C ? i : -1)).filter((i) => i >= 0);
      expect(ignored.length).toBeGreaterThan(0);
      for (const i of ignored) expect(picked![i]).toBe(0);
      expect(picked!.filter((v) => v > 0).length).toBe(picked!.length - ignored.length);
    }
  });

  it('refuse inputs whose shapes or types do not fit, in one sentence', async () => {
    await tf.setBackend('wasm');
    const p = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const k = tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D;
    expect(() => softmaxCrossEntropyGrad(p, k, tf.zeros([1, 2, 3]) as tf.Tensor3D, tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(/do not fit/);
    expect(() => pickClass(p, tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(/do not fit/);
    tf.dispose([p, k]);
  });
});
