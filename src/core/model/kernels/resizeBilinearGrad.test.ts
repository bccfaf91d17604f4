import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { stockKernelFunc } from './index';
import { cpuResizeBilinearGradConfig } from './resizeBilinearGrad';
import { on, randomValues, relDiff, setupBackends } from './testUtil';
import { simdKernels, simdOptions } from './simd';

// Tolerance: max |got - reference| <= 1e-5 * max(1, max |reference|) against the naive gradient and the
// cpu reference; wasm's stock kernel (kept for halfPixelCenters=false) to 1e-4.
const TOL = 1e-5;

type Shape4 = [number, number, number, number];
interface Case {
  x: Shape4;
  size: [number, number];
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

const CASES: Case[] = [
  { x: [2, 5, 9, 3], size: [10, 18], alignCorners: false, halfPixelCenters: false }, // x2, non-square
  { x: [1, 4, 7, 8], size: [16, 28], alignCorners: false, halfPixelCenters: false }, // x4
  { x: [1, 3, 5, 2], size: [24, 40], alignCorners: false, halfPixelCenters: false }, // x8
  { x: [1, 6, 4, 3], size: [13, 9], alignCorners: true, halfPixelCenters: false }, // odd factor, align corners
  { x: [2, 7, 5, 3], size: [15, 11], alignCorners: false, halfPixelCenters: true },
  { x: [1, 9, 12, 4], size: [4, 5], alignCorners: false, halfPixelCenters: false }, // downsampling
];

const name = (c: Case) =>
  `${c.x.join('x')} -> ${c.size.join('x')}${c.alignCorners ? ', alignCorners' : ''}${c.halfPixelCenters ? ', halfPixelCenters' : ''}`;

function grad(c: Case, seed: number) {
  return () => {
    const images = tf.tensor4d(randomValues(c.x.reduce((a, b) => a * b, 1), seed), c.x);
    const dyShape: Shape4 = [c.x[0], c.size[0], c.size[1], c.x[3]];
    const dy = tf.tensor4d(randomValues(dyShape.reduce((a, b) => a * b, 1), seed + 1), dyShape);
    return tf.engine().runKernel('ResizeBilinearGrad', { images, dy },
      { alignCorners: c.alignCorners, halfPixelCenters: c.halfPixelCenters }) as tf.Tensor;
  };
}

/** The gradient by definition: d(sum(resize(x) * dy))/dx[p] = sum(resize(e_p) * dy), e_p one-hot at p. */
function naiveGrad(c: Case, seed: number) {
  return () => {
    const [n, h, w, ch] = c.x;
    const dyShape: Shape4 = [n, c.size[0], c.size[1], ch];
    const dy = tf.tensor4d(randomValues(dyShape.reduce((a, b) => a * b, 1), seed + 1), dyShape);
    const out = new Float32Array(n * h * w * ch);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const basis = new Float32Array(n * h * w * ch);
        for (let b = 0; b < n; b++) for (let k = 0; k < ch; k++) basis[((b * h + y) * w + x) * ch + k] = 1;
        const r = tf.image.resizeBilinear(tf.tensor4d(basis, c.x), c.size, c.alignCorners, c.halfPixelCenters);
        const s = tf.sum(tf.mul(r, dy), [1, 2]).dataSync(); // [n, ch]
        for (let b = 0; b < n; b++) for (let k = 0; k < ch; k++) out[((b * h + y) * w + x) * ch + k] = s[b * ch + k]!;
      }
    }
    return tf.tensor4d(out, c.x);
  };
}

describe('ResizeBilinearGrad', () => {
  beforeAll(setupBackends);

  it('the stock cpu kernel (tfjs 4.22) returns H and W swapped: the reason for this kernel', async () => {
    await tf.setBackend('cpu');
    const stock = stockKernelFunc('ResizeBilinearGrad', 'cpu');
    expect(stock).toBeDefined();
    const images = tf.zeros([1, 2, 3, 1]);
    const dy = tf.ones([1, 4, 6, 1]);
    const info = stock!({
      inputs: { images, dy }, backend: tf.backend(), attrs: { alignCorners: false, halfPixelCenters: false },
    }) as tf.TensorInfo;
    // If this fails, tfjs fixed the bug: the project's cpu kernel can then be dropped.
    expect(info.shape).toEqual([1, 3, 2, 1]);
    tf.backend().disposeData(info.dataId);
    tf.dispose([images, dy]);
    expect(tf.getKernel('ResizeBilinearGrad', 'cpu')?.kernelFunc).toBe(cpuResizeBilinearGradConfig.kernelFunc);
  });

  it('the stock wasm kernel ignores halfPixelCenters (so ours handles that case)', async () => {
    const c = CASES.find((k) => k.halfPixelCenters)!;
    const [naive] = await on('cpu', naiveGrad(c, 4));
    const stock = stockKernelFunc('ResizeBilinearGrad', 'wasm')!;
    const [got] = await on('wasm', () => {
      const images = tf.tensor4d(randomValues(c.x.reduce((a, b) => a * b, 1), 4), c.x);
      const dyShape: Shape4 = [c.x[0], c.size[0], c.size[1], c.x[3]];
      const dy = tf.tensor4d(randomValues(dyShape.reduce((a, b) => a * b, 1), 5), dyShape);
      const info = stock({ inputs: { images, dy }, backend: tf.backend(), attrs: { alignCorners: false, halfPixelCenters: true } }) as tf.TensorInfo;
      return tf.engine().makeTensorFromTensorInfo(info);
    });
    expect(relDiff(got!, naive!)).toBeGreaterThan(1e-2);
  });

  it.each(CASES.map((c) => [name(c), c] as const))('cpu fix and wasm match the naive gradient: %s', async (_n, c) => {
    const [naive] = await on('cpu', naiveGrad(c, 3));
    const [cpu] = await on('cpu', grad(c, 3));
    const [wasm] = await on('wasm', grad(c, 3));
    expect(relDiff(cpu!, naive!)).toBeLessThan(TOL);
    expect(relDiff(wasm!, naive!)).toBeLessThan(c.halfPixelCenters ? TOL : 1e-4);
  });

  it('computes the same bits with the wasm SIMD kernel as with the JavaScript loop', async () => {
    expect(simdKernels(tf.findBackend('wasm')!), 'the wasm SIMD kernels load').not.toBeNull();
    const cases: Case[] = [
      { x: [2, 4, 8, 19], size: [32, 64], alignCorners: false, halfPixelCenters: true }, // the network's x8, 19 classes
      { x: [2, 7, 5, 3], size: [15, 11], alignCorners: false, halfPixelCenters: true }, // odd channel count
      { x: [1, 5, 6, 1], size: [10, 12], alignCorners: true, halfPixelCenters: true },
      { x: [1, 9, 12, 4], size: [4, 5], alignCorners: false, halfPixelCenters: true }, // downsampling
    ];
    for (const c of cases) {
      simdOptions.enabled = false;
      const [js] = await on('wasm', grad(c, 5));
      simdOptions.enabled = true;
      const [simd] = await on('wasm', grad(c, 5));
      expect(simd, name(c)).toEqual(js);
      expect(js!.some((v) => v !== 0)).toBe(true);
    }
  });

  it("computes tfjs-backend-wasm's own kernel's bits with the SIMD kernel where halfPixelCenters is false", async () => {
    const stock = stockKernelFunc('ResizeBilinearGrad', 'wasm')!;
    const cases: Case[] = [
      ...CASES.filter((c) => !c.halfPixelCenters),
      { x: [2, 16, 32, 19], size: [128, 256], alignCorners: false, halfPixelCenters: false }, // the network's x8
      { x: [1, 5, 6, 1], size: [10, 12], alignCorners: true, halfPixelCenters: false },
    ];
    for (const c of cases) {
      const [simd] = await on('wasm', grad(c, 9));
      const [ref] = await on('wasm', () => {
        const images = tf.tensor4d(randomValues(c.x.reduce((a, b) => a * b, 1), 9), c.x);
        const dyShape: Shape4 = [c.x[0], c.size[0], c.size[1], c.x[3]];
        const dy = tf.tensor4d(randomValues(dyShape.reduce((a, b) => a * b, 1), 10), dyShape);
        const info = stock({ inputs: { images, dy }, backend: tf.backend(), attrs: { alignCorners: c.alignCorners, halfPixelCenters: false } }) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(info);
      });
      expect(simd, name(c)).toEqual(ref);
    }
  });

  it('tf.grads through a non-square x2/x4 upsampling agree on cpu and wasm', async () => {
    const net = () => {
      const x = tf.tensor4d(randomValues(2 * 6 * 10 * 4, 9), [2, 6, 10, 4]);
      const w = tf.tensor4d(randomValues(3 * 3 * 4 * 3, 10), [3, 3, 4, 3]);
      const target = tf.tensor4d(randomValues(2 * 24 * 40 * 3, 11), [2, 24, 40, 3]);
      const f = (input: tf.Tensor, filter: tf.Tensor) => {
        const up2 = tf.image.resizeBilinear(input as tf.Tensor4D, [12, 20]);
        const y = tf.conv2d(up2, filter as tf.Tensor4D, 1, 'same');
        const up4 = tf.image.resizeBilinear(y, [24, 40]);
        return tf.mean(tf.square(tf.sub(up4, target)));
      };
      return tf.grads(f)([x, w]);
    };
    const ref = await on('cpu', net);
    const got = await on('wasm', net);
    for (let i = 0; i < ref.length; i++) expect(relDiff(got[i]!, ref[i]!)).toBeLessThan(1e-4);
  });
});
