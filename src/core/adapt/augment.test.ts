import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../model/tf';
import { initBackend } from '../model/backend';
import { augmentBatch, drawAugment, hueRotation, recolourToTarget } from './augment';

beforeAll(async () => {
  await initBackend('wasm');
});

const apply = (m: number[][], rgb: number[]) => [0, 1, 2].map((j) => rgb.reduce((sum, v, k) => sum + v * m[k]![j]!, 0));
const luma = (rgb: number[]) => 0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;

describe('hue jitter', () => {
  it('is the identity at 0 and keeps luma and greys at any rotation', () => {
    const red = [200, 40, 30];
    for (const [a, b] of apply(hueRotation(0), red).map((v, i) => [v, red[i]!])) expect(a).toBeCloseTo(b!, 1);
    for (const turns of [-0.25, 0.1, 0.25]) {
      expect(luma(apply(hueRotation(turns), red))).toBeCloseTo(luma(red), 1);
      for (const v of apply(hueRotation(turns), [90, 90, 90])) expect(v).toBeCloseTo(90, 0);
    }
  });

  it('rotates: two rotations add up, and a quarter turn moves red away from red', () => {
    const red = [200, 40, 30];
    const twice = apply(hueRotation(0.1), apply(hueRotation(0.15), red));
    const once = apply(hueRotation(0.25), red);
    for (let i = 0; i < 3; i++) expect(twice[i]).toBeCloseTo(once[i]!, 1);
    expect(Math.abs(once[0]! - red[0]!)).toBeGreaterThan(50);
  });

  it('draws a rotation within ±hue, and none when hue is 0', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const draws = Array.from({ length: 200 }, () => drawAugment(random, 0.25).jitter).filter((j) => j !== null);
    expect(draws.length).toBeGreaterThan(100);
    expect(Math.max(...draws.map((j) => Math.abs(j!.hue)))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...draws.map((j) => Math.abs(j!.hue)))).toBeGreaterThan(0.2);
    expect(Math.abs(drawAugment(() => 0.1, 0).jitter!.hue)).toBe(0);
  });

  it('changes the colours of an image but stays in [0, 255]', async () => {
    const image = tf.tensor4d([250, 10, 10, 10, 250, 10], [1, 1, 2, 3]);
    const out = augmentBatch(image, [{ jitter: { brightness: 1, contrast: 1, saturation: 1, hue: 0.25 }, blurSigma: null }]);
    const values = Array.from(await out.data());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThanOrEqual(255);
    expect(Math.abs(values[0]! - 250)).toBeGreaterThan(30);
    tf.dispose([image, out]);
  });
});

describe('source recolouring', () => {
  it("moves each image's per-channel mean and spread to its paired target's, in [0, 255]", async () => {
    const rng = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const draw = rng(7);
    // A saturated source (red high, blue low) and a muted grey-ish target with a smaller spread.
    const source = tf.tensor4d(Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => [200, 90, 30][i % 3]! + (draw() - 0.5) * 60), [2, 8, 8, 3]);
    const target = tf.tensor4d(Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => [120, 125, 130][i % 3]! + (i >= 192 ? 20 : 0) + (draw() - 0.5) * 20), [2, 8, 8, 3]);
    const out = recolourToTarget(source, target);
    const got = tf.moments(out, [1, 2]);
    const want = tf.moments(target, [1, 2]);
    const from = tf.moments(source, [1, 2]);
    const [gm, wm, gv, wv, fv] = await Promise.all([got.mean.data(), want.mean.data(), got.variance.data(), want.variance.data(), from.variance.data()]);
    for (let i = 0; i < gm.length; i++) {
      expect(gm[i]).toBeCloseTo(wm[i]!, 2);
      // Spreads carry +1 against flat channels: σ_out = σ_s / (σ_s + 1) · (σ_t + 1), within 1 % of σ_t here.
      const [ss, st] = [Math.sqrt(fv[i]!), Math.sqrt(wv[i]!)];
      expect(Math.sqrt(gv[i]!)).toBeCloseTo((ss / (ss + 1)) * (st + 1), 3);
      expect(Math.abs(Math.sqrt(gv[i]!) - st) / st).toBeLessThan(0.15);
    }
    // Pixels keep their order within a channel (a monotone map per image and channel).
    const [s0, o0] = [await source.data(), await out.data()];
    expect(Math.sign(o0[3]! - o0[0]!)).toBe(Math.sign(s0[3]! - s0[0]!));
    const [min, max] = [(await out.min().data())[0]!, (await out.max().data())[0]!];
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(255);
    tf.dispose([source, target, out, got.mean, got.variance, want.mean, want.variance, from.mean, from.variance]);
  });
});
