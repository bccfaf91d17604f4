import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { on, randomValues, relDiff, setupBackends } from './testUtil';

// Tolerance: max |wasm - cpu| <= 1e-4 * max(1, max |cpu|).
const TOL = 1e-4;

interface DwCase {
  x: [number, number, number, number];
  k: number;
  m: number;
  strides: number;
  pad: 'same' | 'valid' | number;
}

const CASES: DwCase[] = [
  { x: [2, 9, 13, 8], k: 3, m: 1, strides: 1, pad: 'same' },
  { x: [1, 11, 10, 16], k: 3, m: 1, strides: 2, pad: 'same' },
  { x: [2, 7, 8, 3], k: 3, m: 2, strides: 1, pad: 'valid' },
  { x: [1, 12, 9, 3], k: 5, m: 2, strides: 2, pad: 'same' },
  { x: [1, 8, 8, 8], k: 3, m: 1, strides: 1, pad: 1 },
];

function run(c: DwCase, kind: 'filter' | 'input', seed: number) {
  const [n, h, w, ch] = c.x;
  const filterShape: [number, number, number, number] = [c.k, c.k, ch, c.m];
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, c.pad, undefined, true);
  return () => {
    const dy = tf.tensor4d(randomValues(info.outShape.reduce((a, b) => a * b, 1), seed), info.outShape);
    const attrs = { strides: c.strides, pad: c.pad, dilations: 1 };
    if (kind === 'filter') {
      const x = tf.tensor4d(randomValues(n * h * w * ch, seed + 1), c.x);
      return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape }) as tf.Tensor;
    }
    const filter = tf.tensor4d(randomValues(c.k * c.k * ch * c.m, seed + 2), filterShape);
    return tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x }) as tf.Tensor;
  };
}

const label = (c: DwCase) => `x ${c.x.join('x')}, ${c.k}x${c.k}, multiplier ${c.m}, stride ${c.strides}, pad ${c.pad}`;

describe('wasm DepthwiseConv2dNative backprop kernels', () => {
  beforeAll(setupBackends);

  it.each(CASES.map((c) => [label(c), c] as const))('filter and input gradients match cpu: %s', async (_l, c) => {
    for (const kind of ['filter', 'input'] as const) {
      const [ref] = await on('cpu', run(c, kind, 31));
      const [got] = await on('wasm', run(c, kind, 31));
      expect(relDiff(got!, ref!), kind).toBeLessThan(TOL);
    }
  });

  it('tf.grads of a depthwise-separable block agree on cpu and wasm', async () => {
    const net = () => {
      const x = tf.tensor4d(randomValues(2 * 10 * 12 * 8, 1), [2, 10, 12, 8]);
      const dw = tf.tensor4d(randomValues(3 * 3 * 8, 2), [3, 3, 8, 1]);
      const pw = tf.tensor4d(randomValues(8 * 16, 3), [1, 1, 8, 16]);
      const f = (input: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const h = tf.relu6(tf.depthwiseConv2d(input as tf.Tensor4D, a as tf.Tensor4D, 2, 'same'));
        return tf.mean(tf.square(tf.conv2d(h, b as tf.Tensor4D, 1, 'same')));
      };
      return tf.grads(f)([x, dw, pw]);
    };
    const ref = await on('cpu', net);
    const got = await on('wasm', net);
    for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!)).toBeLessThan(TOL);
  });
});
