import * as tf from '../model/tf';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { HUMAN_IGNORE } from '../../shared/labels';
import { berHu, crossEntropy, depthDiscrepancyWeight, detached, difficultyMap, mixedTargets, validDepthMask, weightedCrossEntropy } from './losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const close = (a: number, b: number, eps = 1e-5) => expect(Math.abs(a - b)).toBeLessThan(eps);

/** logits [1, 1, n, 19] with one chosen class score per pixel, the rest 0. */
function logits(pixels: { cls: number; score: number }[]): tf.Tensor4D {
  const data = new Float32Array(pixels.length * 19);
  pixels.forEach((p, i) => (data[i * 19 + p.cls] = p.score));
  return tf.tensor4d(data, [1, 1, pixels.length, 19]);
}

describe('cross-entropy', () => {
  it('averages over valid pixels and skips the ignore label', async () => {
    const l = logits([{ cls: 0, score: 2 }, { cls: 1, score: 0 }, { cls: 2, score: 5 }]);
    const labels = tf.tensor3d([0, 1, 255], [1, 1, 3], 'int32');
    // Pixel 0: logsumexp = log(e^2 + 18), CE = that − 2. Pixel 1: all zero → log 19. Pixel 2 ignored.
    const expected = (Math.log(Math.exp(2) + 18) - 2 + Math.log(19)) / 2;
    close((await crossEntropy(l, labels).data())[0]!, expected);
  });

  it('averages over no fewer than minShare of all pixels when few are labelled', async () => {
    const l = logits([{ cls: 0, score: 0 }, { cls: 0, score: 0 }, { cls: 0, score: 0 }, { cls: 0, score: 0 }]);
    const labels = tf.tensor3d([3, 255, 255, 255], [1, 1, 4], 'int32');
    // One labelled pixel of four: over itself (share 0 or 0.25), over two pixels (0.5), over all four (1).
    close((await crossEntropy(l, labels, 0.25).data())[0]!, Math.log(19));
    close((await crossEntropy(l, labels, 0.5).data())[0]!, Math.log(19) / 2);
    close((await crossEntropy(l, labels, 1).data())[0]!, Math.log(19) / 4);
  });

  it('weights per pixel and averages over all pixels', async () => {
    const l = logits([{ cls: 0, score: 0 }, { cls: 0, score: 0 }]);
    const labels = tf.tensor3d([3, 255], [1, 1, 2], 'int32');
    const w = tf.tensor3d([0.5, 1], [1, 1, 2]);
    close((await weightedCrossEntropy(l, labels, w).data())[0]!, (0.5 * Math.log(19)) / 2);
  });
});

describe('BerHu', () => {
  it('is L1 below c = 0.2·max(e) and (e² + c²)/2c above, over valid pixels only', async () => {
    const pred = tf.tensor1d([1.5, 2.0, 3.0, 10.0, 7]);
    const gt = tf.tensor1d([1.5, 2.5, 8.0, 1.0, 5]);
    // e = [0, 0.5, 5, 9 (gt 1.0 = invalid → masked), 2] → valid e = [0, 0.5, 5, 2], c = 0.2·5 = 1.
    const c = 1;
    const expected = (0 + 0.5 + (25 + c * c) / (2 * c) + (4 + c * c) / (2 * c)) / 4;
    close((await berHu(pred, gt).data())[0]!, expected);
  });

  it('is 0 when no pixel is valid and treats c as a constant in the gradient', async () => {
    expect((await berHu(tf.tensor1d([3, 4]), tf.tensor1d([1, 1])).data())[0]).toBe(0);
    const gt = tf.tensor1d([0, 0]);
    const grad = tf.grad((p: tf.Tensor) => berHu(p, gt))(tf.tensor1d([1, 5]));
    // e = [1, 5], c = 1: d/dp of e is 1 (e ≤ c, p=1) and e/c = 5 (quadratic part) for p=5, each / 2 pixels.
    expect(Array.from(await grad.data())).toEqual([0.5, 2.5]);
  });
});

describe('detached', () => {
  it('passes the value and blocks the gradient', async () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, detached((v) => tf.mul(v, 3), x))))(tf.tensor1d([2, 3]));
    expect(Array.from(await g.data())).toEqual([6, 9]);
  });

  it("runs none of fn's gradients in backprop", async () => {
    const x = tf.tensor3d([1, 5, 2, 4], [1, 2, 2]);
    const backprop = async (threshold: (e: tf.Tensor) => tf.Tensor) => {
      const profile = await tf.profile(() => tf.grad((e: tf.Tensor) => tf.sum(tf.mul(e, threshold(e))))(x));
      return { names: profile.kernels.map((k) => k.name), grad: Array.from(await (profile.result as tf.Tensor).data()) };
    };
    // tf.max's gradient compares every element with the maximum; the detached threshold's must not.
    const taped = await backprop((e) => tf.mul(tf.max(e), 0.2));
    const constant = await backprop((e) => detached((v) => tf.mul(tf.max(v), 0.2), e));
    expect(taped.names).toContain('Equal');
    expect(constant.names).not.toContain('Equal');
    expect(constant.grad).toEqual([1, 1, 1, 1]);
  });
});

describe('depth weighting', () => {
  it('marks 1.0 as invalid depth', async () => {
    expect(Array.from(await validDepthMask(tf.tensor1d([1, 1.00001, 2, 0.5])).data())).toEqual([0, 0, 1, 1]);
  });

  it('downweights pixels where the source and target depth heads disagree, normalised per image', async () => {
    // Per image of 2 pixels: d = 4; Δ = 0 → s = 1.001 → clip 1; Δ = 2 → s = 0.501; invalid d (1.0) → 1.
    const src = tf.tensor3d([4, 6, 5, 5], [2, 1, 2]);
    const tgt = tf.tensor3d([4, 4, 1, 9], [2, 1, 2]);
    const d = tf.tensor3d([4, 4, 1, 4], [2, 1, 2]);
    const w = Array.from(await depthDiscrepancyWeight(src, tgt, d).data());
    const a = [1, 0.501];
    const meanA = (a[0]! + a[1]!) / 2;
    // Image 2: pixel 0 invalid → 1; pixel 1 Δ = 4 → s = 0.001.
    const b = [1, 0.001];
    const meanB = (b[0]! + b[1]!) / 2;
    [a[0]! / meanA, a[1]! / meanA, b[0]! / meanB, b[1]! / meanB].forEach((v, i) => close(w[i]!, v, 1e-5));
  });

  it("weights every image by the batch's mean weight per pixel in the reference's slip", async () => {
    // Raw w_d: image 1 [1, 0.501], image 2 [1, 0.001]; over the batch mean, then averaged over the two images.
    const src = tf.tensor3d([4, 6, 5, 5], [2, 1, 2]);
    const tgt = tf.tensor3d([4, 4, 1, 9], [2, 1, 2]);
    const d = tf.tensor3d([4, 4, 1, 4], [2, 1, 2]);
    const w = Array.from(await depthDiscrepancyWeight(src, tgt, d, 'reference-slip').data());
    const raw = [1, 0.501, 1, 0.001];
    const mean = raw.reduce((x, y) => x + y, 0) / 4;
    const perPixel = [(raw[0]! + raw[2]!) / 2 / mean, (raw[1]! + raw[3]!) / 2 / mean];
    [perPixel[0]!, perPixel[1]!, perPixel[0]!, perPixel[1]!].forEach((v, i) => close(w[i]!, v, 1e-5));
  });

  it('turns the same discrepancy into a difficulty in [0, 1]', async () => {
    const diff = Array.from(await difficultyMap(tf.tensor3d([4, 6, 0], [1, 1, 3]), tf.tensor3d([4, 4, 9], [1, 1, 3]), tf.tensor3d([4, 4, 3], [1, 1, 3])).data());
    [0, 0.5, 1].forEach((v, i) => close(diff[i]!, v));
  });
});

describe('cross-entropy gradient', () => {
  it('matches the gradient of the textbook log-softmax formulation', async () => {
    const logits = tf.randomNormal([2, 3, 4, 19], 0, 3, 'float32', 7) as tf.Tensor4D;
    const labels = tf.tensor3d(Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? 255 : i % 19)), [2, 3, 4], 'int32');
    const weights = tf.randomUniform([2, 3, 4], 0, 2, 'float32', 3) as tf.Tensor3D;
    const reference = (l: tf.Tensor) => {
      const valid = tf.cast(tf.notEqual(labels, 255), 'float32');
      const oneHot = tf.oneHot(tf.cast(tf.where(tf.equal(labels, 255), tf.zerosLike(labels), labels), 'int32'), 19);
      const ce = tf.mul(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(l)), -1)), valid);
      return tf.mean(tf.mul(ce, weights)) as tf.Scalar;
    };
    const ours = (l: tf.Tensor) => weightedCrossEntropy(l as tf.Tensor4D, labels, weights);
    close((await ours(logits).data())[0]!, (await reference(logits).data())[0]!, 1e-5);
    const a = await tf.grad(ours)(logits).data();
    const b = await tf.grad(reference)(logits).data();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-6);
  });
});

describe('mixed-image targets', () => {
  // Four pixels: pasted source (m = 1), an uncorrected target pixel, a corrected one (class 7), one marked ignore.
  const m = () => tf.tensor3d([1, 0, 0, 0], [1, 1, 4]);
  const source = () => tf.tensor3d([3, 3, 3, 3], [1, 1, 4], 'int32');
  const pseudo = () => tf.tensor3d([9, 9, 9, 9], [1, 1, 4], 'int32');
  const q = () => tf.scalar(0.6);

  it('gives source pixels weight 1, pseudo-labels q, corrections weight 1 and ignore-marked pixels 0', async () => {
    const corrected = tf.tensor3d([255, 255, 7, HUMAN_IGNORE], [1, 1, 4], 'int32');
    const { labels, weight, trusted } = mixedTargets(m(), source(), pseudo(), q(), corrected);
    expect(Array.from(await labels.data())).toEqual([3, 9, 7, 9]);
    const w = Array.from(await weight.data());
    [1, 0.6, 1, 0].forEach((expected, i) => close(w[i]!, expected));
    expect(Array.from(await trusted!.data())).toEqual([0, 0, 1, 0]);
  });

  it('without corrections: source labels and pseudo-labels, weights 1 and q, nothing trusted', async () => {
    const { labels, weight, trusted } = mixedTargets(m(), source(), pseudo(), q(), null);
    expect(Array.from(await labels.data())).toEqual([3, 9, 9, 9]);
    const w = Array.from(await weight.data());
    [1, 0.6, 0.6, 0.6].forEach((expected, i) => close(w[i]!, expected));
    expect(trusted).toBeNull();
  });

  it('an ignore-marked pixel adds nothing to the loss, whatever the model predicts there', async () => {
    const corrected = tf.tensor3d([255, 255, 7, HUMAN_IGNORE], [1, 1, 4], 'int32');
    const { labels, weight } = mixedTargets(m(), source(), pseudo(), q(), corrected);
    const scores = (last: number) => logits([{ cls: 3, score: 2 }, { cls: 9, score: 2 }, { cls: 7, score: 2 }, { cls: last, score: 4 }]);
    const a = (await weightedCrossEntropy(scores(0), labels, weight).data())[0]!;
    const b = (await weightedCrossEntropy(scores(9), labels, weight).data())[0]!;
    close(a, b);
  });
});
