import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2dBackpropFilterOptions } from './conv2dBackpropFilter';
import { CONV_CASES, caseName, type ConvCase } from './convCases';
import { on, randomValues, relDiff, setupBackends } from './testUtil';
import { simdKernels, simdOptions } from './simd';

// Tolerance: max |wasm - cpu| <= 1e-4 * max(1, max |cpu|) (float32 sums over up to ~800 products).
const TOL = 1e-4;

function filterGrad(c: ConvCase, seed: number, dataFormat: 'NHWC' | 'NCHW' = 'NHWC') {
  const [n, h, w, cin] = c.x;
  const filterShape: [number, number, number, number] = [c.k, c.k, cin, c.cout];
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, c.pad);
  return () => {
    let x = tf.tensor4d(randomValues(n * h * w * cin, seed), c.x);
    let dy = tf.tensor4d(randomValues(info.outShape.reduce((a, b) => a * b, 1), seed + 1), info.outShape);
    if (dataFormat === 'NCHW') {
      x = tf.transpose(x, [0, 3, 1, 2]);
      dy = tf.transpose(dy, [0, 3, 1, 2]);
    }
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
      { strides: c.strides, pad: c.pad, dataFormat, filterShape }) as tf.Tensor;
  };
}

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(setupBackends);

  it.each(CONV_CASES.map((c) => [caseName(c), c] as const))('matches cpu: %s', async (_name, c) => {
    const [ref] = await on('cpu', filterGrad(c, 11));
    const [got] = await on('wasm', filterGrad(c, 11));
    expect(relDiff(got!, ref!)).toBeLessThan(TOL);
  });

  // Stride 2 (im2col by output rows) and stride 1, batch 2 and explicit uneven padding (taps on a padded grid).
  it.each([1, 2, 10, 11].map((i) => [caseName(CONV_CASES[i]!), CONV_CASES[i]!] as const))('matches cpu in chunks (small patch budget) and for NCHW: %s', async (_name, c) => {
    const [ref] = await on('cpu', filterGrad(c, 5));
    const saved = { ...conv2dBackpropFilterOptions };
    try {
      for (const [maxPatchFloats, minChunkColumns] of [[500, 1], [1, 1], [1e9, 1e9]]) {
        Object.assign(conv2dBackpropFilterOptions, { maxPatchFloats, minChunkColumns }); // many chunks ... one
        const [chunked] = await on('wasm', filterGrad(c, 5));
        expect(relDiff(chunked!, ref!)).toBeLessThan(TOL);
      }
    } finally {
      Object.assign(conv2dBackpropFilterOptions, saved);
    }
    const [nchw] = await on('wasm', filterGrad(c, 5, 'NCHW'));
    expect(relDiff(nchw!, ref!)).toBeLessThan(TOL);
  });

  // Training steps stay reproducible across the two stride-1 paths: the same products, summed in the same order.
  it('computes stride 1 on the padded grid to the bit of the row-by-row im2col, in one chunk and in many', async () => {
    const saved = { ...conv2dBackpropFilterOptions };
    try {
      for (const c of CONV_CASES.filter((k) => k.strides === 1)) {
        for (const [maxPatchFloats, minChunkColumns] of [[1e9, 1e9], [500, 1]]) {
          Object.assign(conv2dBackpropFilterOptions, { maxPatchFloats, minChunkColumns, strideOne: 'rows' });
          const [rows] = await on('wasm', filterGrad(c, 7));
          conv2dBackpropFilterOptions.strideOne = 'grid';
          const [grid] = await on('wasm', filterGrad(c, 7));
          expect(Array.from(grid!), caseName(c)).toEqual(Array.from(rows!));
        }
      }
    } finally {
      Object.assign(conv2dBackpropFilterOptions, saved);
    }
  });

  it('copies strided im2col rows with the wasm SIMD kernel to the bit of the JavaScript loop', async () => {
    expect(simdKernels(tf.findBackend('wasm')!), 'the wasm SIMD kernels load').not.toBeNull();
    const strided = [...CONV_CASES.filter((k) => k.strides === 2), { x: [2, 17, 23, 5], k: 3, cout: 4, strides: 3, pad: 'same' } as ConvCase];
    for (const c of strided) {
      simdOptions.enabled = false;
      const [js] = await on('wasm', filterGrad(c, 3));
      simdOptions.enabled = true;
      const [simd] = await on('wasm', filterGrad(c, 3));
      expect(simd, caseName(c)).toEqual(js);
    }
  });

  it('gives the same weight gradients as cpu through a small conv net (stride 1 and 2)', async () => {
    const net = () => {
      const x = tf.tensor4d(randomValues(2 * 11 * 14 * 3, 1), [2, 11, 14, 3]);
      const w1 = tf.tensor4d(randomValues(3 * 3 * 3 * 8, 2), [3, 3, 3, 8]);
      const w2 = tf.tensor4d(randomValues(3 * 3 * 8 * 16, 3), [3, 3, 8, 16]);
      const w3 = tf.tensor4d(randomValues(16 * 4, 4), [1, 1, 16, 4]);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const h1 = tf.relu(tf.conv2d(x, a as tf.Tensor4D, 1, 'same'));
        const h2 = tf.relu(tf.conv2d(h1, b as tf.Tensor4D, 2, 'same'));
        return tf.mean(tf.square(tf.conv2d(h2, c as tf.Tensor4D, 1, 'valid')));
      };
      return tf.grads(f)([w1, w2, w3]);
    };
    const ref = await on('cpu', net);
    const got = await on('wasm', net);
    for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!)).toBeLessThan(TOL);
  });
});
