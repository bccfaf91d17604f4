import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2dBackpropInputOptions } from './conv2dBackpropInput';
import { CONV_CASES, caseName, type ConvCase } from './convCases';
import { on, randomValues, relDiff, setupBackends } from './testUtil';

// Tolerance: max |wasm - cpu| <= 1e-4 * max(1, max |cpu|).
const TOL = 1e-4;

function inputGrad(c: ConvCase, seed: number) {
  const cin = c.x[3];
  const filterShape: [number, number, number, number] = [c.k, c.k, cin, c.cout];
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, c.pad);
  return () => {
    const dy = tf.tensor4d(randomValues(info.outShape.reduce((a, b) => a * b, 1), seed), info.outShape);
    const filter = tf.tensor4d(randomValues(c.k * c.k * cin * c.cout, seed + 1), filterShape);
    return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x }) as tf.Tensor;
  };
}

describe('wasm Conv2DBackpropInput (forward-conv construction)', () => {
  beforeAll(setupBackends);

  it.each(CONV_CASES.map((c) => [caseName(c), c] as const))('matches cpu: %s', async (_name, c) => {
    const [ref] = await on('cpu', inputGrad(c, 21));
    const [got] = await on('wasm', inputGrad(c, 21));
    expect(relDiff(got!, ref!)).toBeLessThan(TOL);
    conv2dBackpropInputOptions.variant = 'stock';
    try {
      const [stock] = await on('wasm', inputGrad(c, 21));
      expect(relDiff(stock!, ref!)).toBeLessThan(TOL);
    } finally {
      conv2dBackpropInputOptions.variant = 'conv';
    }
  });

  it('gives the same input gradient as cpu through a small conv net (stride 1 and 2)', async () => {
    const net = () => {
      const x = tf.tensor4d(randomValues(2 * 13 * 10 * 3, 7), [2, 13, 10, 3]);
      const w1 = tf.tensor4d(randomValues(3 * 3 * 3 * 8, 8), [3, 3, 3, 8]);
      const w2 = tf.tensor4d(randomValues(3 * 3 * 8 * 16, 9), [3, 3, 8, 16]);
      const w3 = tf.tensor4d(randomValues(16 * 8, 10), [1, 1, 16, 8]);
      const f = (input: tf.Tensor) => {
        const h1 = tf.relu(tf.conv2d(input as tf.Tensor4D, w1, 1, 'same'));
        const h2 = tf.sigmoid(tf.conv2d(h1, w2, 2, 'same'));
        const h3 = tf.conv2d(h2, w3, 2, 'valid');
        return tf.sum(tf.square(h3));
      };
      return tf.grad(f)(x);
    };
    const [ref] = await on('cpu', net);
    const [got] = await on('wasm', net);
    expect(relDiff(got!, ref!)).toBeLessThan(TOL);
  });
});
