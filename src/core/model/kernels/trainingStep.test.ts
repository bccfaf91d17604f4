// Probe: one training step of a small conv net with every op kind the CorDA network uses must run on wasm (with
// the project's kernels) and give the same gradients as the cpu reference.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { on, randomValues, relDiff, setupBackends } from './testUtil';

const SHAPES: Record<string, number[]> = {
  stem: [3, 3, 3, 8], down: [3, 3, 8, 16], dw: [3, 3, 16, 1], pw: [1, 1, 16, 16], down2: [1, 1, 16, 16],
  atrous: [3, 3, 16, 16], gateA: [3, 3, 16, 16], gateB: [3, 3, 16, 16], gamma: [16], beta: [16], cls: [1, 1, 16, 5],
  depth: [1, 1, 16, 1],
};

/** Loss of a small segmentation net: conv s1/s2, 1x1, depthwise, batch norm (moments), relu/relu6, atrous conv via
 * spaceToBatchND, sigmoid gate, bilinear x2/x4/x8 (non-square), avgPool, logSoftmax CE with ignore mask, BerHu-like term. */
function loss(v: Record<string, tf.Tensor>, x: tf.Tensor4D, labels: tf.Tensor, depth: tf.Tensor): tf.Scalar {
  const [, H, W] = x.shape;
  let h = tf.relu(tf.conv2d(x, v.stem as tf.Tensor4D, 1, 'same'));
  h = tf.conv2d(h, v.down as tf.Tensor4D, 2, 'same');
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.relu6(tf.batchNorm(h, mean, variance, v.beta as tf.Tensor1D, v.gamma as tf.Tensor1D, 1e-5)) as tf.Tensor4D;
  h = tf.depthwiseConv2d(h, v.dw as tf.Tensor4D, 1, 'same');
  h = tf.relu(tf.conv2d(h, v.pw as tf.Tensor4D, 1, 'same'));
  const low = tf.conv2d(h, v.down2 as tf.Tensor4D, 2, 'same'); // 1/4
  const s2b = tf.spaceToBatchND(low, [2, 2], [[2, 2 + (low.shape[1] % 2)], [2, 2 + (low.shape[2] % 2)]]);
  let a = tf.conv2d(s2b as tf.Tensor4D, v.atrous as tf.Tensor4D, 1, 'valid');
  a = tf.batchToSpaceND(a, [2, 2], [[0, low.shape[1] % 2], [0, low.shape[2] % 2]]) as tf.Tensor4D;
  const gate = tf.sigmoid(tf.conv2d(a as tf.Tensor4D, v.gateA as tf.Tensor4D, 1, 'same'));
  const fused = tf.add(low, tf.mul(tf.conv2d(a as tf.Tensor4D, v.gateB as tf.Tensor4D, 1, 'same'), gate)) as tf.Tensor4D;
  const up2 = tf.image.resizeBilinear(fused, [fused.shape[1] * 2, fused.shape[2] * 2], false);
  const logits = tf.image.resizeBilinear(tf.conv2d(up2, v.cls as tf.Tensor4D, 1, 'same'), [H, W], false); // x2 then x4 total
  const logp = tf.logSoftmax(logits);
  const valid = tf.notEqual(labels, 255);
  const safe = tf.where(valid, labels, tf.zerosLike(labels));
  const ce = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(safe, 5)), -1));
  const validF = tf.cast(valid, 'float32');
  const seg = tf.div(tf.sum(tf.mul(ce, validF)), tf.maximum(tf.sum(validF), 1));
  const dLow = tf.conv2d(low, v.depth as tf.Tensor4D, 1, 'same');
  const d = tf.image.resizeBilinear(dLow, [H, W], false); // x4
  const d8 = tf.image.resizeBilinear(tf.avgPool(dLow, 2, 2, 'same'), [H, W], false); // x8 from 1/8
  const depthLoss = tf.mean(tf.abs(tf.sub(tf.add(d, d8), depth)));
  return tf.add(seg, tf.mul(0.01, depthLoss)) as tf.Scalar;
}

function step(x8: boolean) {
  return () => {
    const [n, h, w] = x8 ? [1, 32, 24] : [2, 23, 18];
    const vars: Record<string, tf.Variable> = {};
    let seed = 100;
    for (const [name, shape] of Object.entries(SHAPES)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const scale = name === 'gamma' ? 0 : 0.3;
      const init = tf.add(tf.tensor(randomValues(size, seed++), shape), name === 'gamma' ? 1 : 0);
      vars[name] = tf.variable(tf.mul(init, scale === 0 ? 1 : scale), true, `probe_${name}_${seed}`);
    }
    const x = tf.tensor4d(randomValues(n * h * w * 3, 1), [n, h, w, 3]);
    const labelValues = Int32Array.from(randomValues(n * h * w, 2), (v) => (v > 0.8 ? 255 : Math.floor((v + 1) * 2.5)));
    const labels = tf.tensor3d(labelValues, [n, h, w], 'int32');
    const depth = tf.tensor4d(randomValues(n * h * w, 3), [n, h, w, 1]);
    const { value, grads } = tf.variableGrads(() => loss(vars, x, labels, depth), Object.values(vars));
    const out = [value, ...Object.keys(SHAPES).map((k) => grads[vars[k]!.name]!)];
    for (const v of Object.values(vars)) v.dispose();
    return out;
  };
}

describe('training step on wasm (probe for missing kernels)', () => {
  beforeAll(setupBackends);

  it('runs tf.variableGrads of a CorDA-like loss on wasm and matches cpu', async () => {
    const ref = await on('cpu', step(false));
    const got = await on('wasm', step(false));
    expect(got.length).toBe(Object.keys(SHAPES).length + 1);
    // Gradients: max |wasm - cpu| <= 1e-3 * max(1, max |cpu|) (a deep chain of float32 ops on two backends).
    for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!), `output ${i}`).toBeLessThan(1e-3);
  });

  it('runs with an x8 upsampling path and leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const got = await on('wasm', step(true));
    expect(got.every((g) => g.every(Number.isFinite))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
