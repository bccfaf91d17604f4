import * as tf from '../model/tf';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../random';

const seeded = (seed: number) => {
  const rng = new Rng(seed);
  return () => rng.next();
};
import { emaDecay, polyLr, scheduledLr, updateEma } from './optim';
import { classMask, mix, pickHalf, presentClasses } from './classmix';
import { ParamStore } from '../model/params';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('ClassMix', () => {
  const labels = new Uint8Array([0, 0, 13, 13, 10, 255, 2, 2]);

  it('finds the classes present, without ignore', () => {
    expect(presentClasses(labels)).toEqual([0, 2, 10, 13]);
  });

  it('picks half of them, rounded up, deterministically for a seed', () => {
    const a = pickHalf([0, 2, 10, 13], seeded(5));
    expect(a).toHaveLength(2);
    expect(pickHalf([0, 2, 10, 13], seeded(5))).toEqual(a);
    expect(pickHalf([1, 2, 3], seeded(1))).toHaveLength(2);
    const seen = new Set<string>();
    for (let s = 0; s < 50; s++) seen.add(pickHalf([0, 2, 10, 13], seeded(s)).join());
    expect(seen.size).toBeGreaterThan(3);
  });

  it('masks exactly the pixels of the chosen classes and mixes images and labels with it', async () => {
    const mask = classMask(labels, [13, 2]);
    expect(Array.from(mask)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    const m = tf.tensor3d(mask, [1, 1, 8]);
    const src = tf.tensor3d([1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 8]);
    const tgt = tf.tensor3d([7, 7, 7, 7, 7, 7, 7, 7], [1, 1, 8]);
    expect(Array.from(await mix(m, src, tgt).data())).toEqual([7, 7, 1, 1, 7, 7, 1, 1]);
    const img = mix(m, tf.ones([1, 1, 8, 3]) as tf.Tensor4D, tf.zeros([1, 1, 8, 3]) as tf.Tensor4D);
    expect(Array.from(await img.data()).filter((v) => v === 1)).toHaveLength(12);
  });
});

describe('schedule and EMA', () => {
  it('decays the learning rate polynomially', () => {
    expect(polyLr(0.01, 0, 100)).toBe(0.01);
    expect(polyLr(0.01, 50, 100)).toBeCloseTo(0.01 * Math.pow(0.5, 0.9));
    expect(polyLr(0.01, 100, 100)).toBe(0);
    // A linear warm-up over the first 4 iterations, then the poly rate itself.
    expect(scheduledLr(0.01, 0, 100, 0.9, 4)).toBeCloseTo(0.25 * polyLr(0.01, 0, 100));
    expect(scheduledLr(0.01, 2, 100, 0.9, 4)).toBeCloseTo(0.75 * polyLr(0.01, 2, 100));
    expect(scheduledLr(0.01, 3, 100, 0.9, 4)).toBe(polyLr(0.01, 3, 100));
    expect(scheduledLr(0.01, 50, 100, 0.9, 0)).toBe(polyLr(0.01, 50, 100));
  });

  it('moves the teacher towards the student with a = min(1 − 1/(t+1), 0.999)', async () => {
    expect(emaDecay(0)).toBe(0);
    expect(emaDecay(3)).toBe(0.75);
    expect(emaDecay(1e6)).toBe(0.999);
    const teacher = new ParamStore(seeded(1));
    const student = new ParamStore(seeded(2));
    teacher.get('w', [2], 'bias').assign(tf.tensor1d([0, 10]));
    student.get('w', [2], 'bias').assign(tf.tensor1d([4, 2]));
    updateEma(teacher, student, 3);
    expect(Array.from(await teacher.vars.get('w')!.data())).toEqual([1, 8]);
    updateEma(teacher, student, 0);
    expect(Array.from(await teacher.vars.get('w')!.data())).toEqual([4, 2]);
  });
});
