// Data-parallel replicas: averaged gradients must reproduce one trainer on the whole batch when the slices are
// alike, and every replica must end with the same weights.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../model/backend';
import { defaultConfig } from './config';
import { Rng } from '../random';
import type { Crop } from './data';
import { ParallelTrainer } from './parallel';
import { Trainer } from './trainer';

const W = 48;
const H = 32;

function crop(shift: number): Crop {
  const rgb = new Float32Array(W * H * 3);
  const labels = new Uint8Array(W * H);
  const depth = new Float32Array(W * H);
  for (let i = 0; i < W * H; i++) {
    const y = Math.floor(i / W);
    const x = i % W;
    const cls = y < 10 ? 10 : x > 12 + shift && x < 30 + shift && y > 16 ? 13 : 0;
    labels[i] = cls;
    rgb.set(cls === 10 ? [80, 130, 200] : cls === 13 ? [30, 30, 150] : [120, 115, 118], i * 3);
    depth[i] = cls === 10 ? 1 : 3 + y;
  }
  return { rgb, labels, depth };
}

const parallel: ParallelTrainer[] = [];
beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(async () => {
  await Promise.all(parallel.map((p) => p.dispose()));
});

describe('ParallelTrainer', () => {
  it('matches a single trainer step for step when both halves of the batch are alike', async () => {
    const config = defaultConfig('source-only', 'tiny', { crop: { width: W, height: H }, iters: 5, seed: 6 });
    const same = { source: [crop(2), crop(2)], target: [] };
    const single = new Trainer(config);
    const replicas = new ParallelTrainer(config, 'wasm', 2);
    parallel.push(replicas);
    await replicas.ready();
    expect(replicas.workers).toBe(2);
    for (let i = 0; i < 3; i++) {
      const a = await single.step(same, i, new Rng(i));
      const b = await replicas.step(same, i, new Rng(i));
      expect(b.total).toBeCloseTo(a.total, 4);
    }
    const mine = new Map((await single.snapshot()).map((t) => [t.name, t.data]));
    let worst = 0;
    for (const t of await replicas.snapshot()) {
      const other = mine.get(t.name)!;
      for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - other[i]!));
    }
    expect(worst).toBeLessThan(1e-4);
    single.dispose();
  });

  it('trains CorDA on two threads with finite, decreasing source loss and a usable student', async () => {
    const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 12, seed: 1 });
    const replicas = new ParallelTrainer(config, 'wasm', 2);
    parallel.push(replicas);
    await replicas.ready();
    const random = new Rng(2);
    const batch = { source: [crop(0), crop(8)], target: [crop(4), crop(12)].map((c) => ({ ...c, labels: null })) };
    const losses = [];
    for (let i = 0; i < 12; i++) losses.push(await replicas.step(batch, i, random));
    for (const l of losses) expect(Number.isFinite(l.total)).toBe(true);
    expect(losses[11]!.sourceCe).toBeLessThan(losses[0]!.sourceCe);
    const student = await replicas.student();
    expect(student.params.vars.size).toBeGreaterThan(50);
    student.dispose();
  });

  it('trains on corrections held by one replica\'s half of the batch only (both replicas run the same passes)', async () => {
    const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 4, seed: 1, sourceWarmup: 0 });
    const replicas = new ParallelTrainer(config, 'wasm', 2);
    parallel.push(replicas);
    await replicas.ready();
    const random = new Rng(3);
    const corrected = new Uint8Array(W * H).fill(255).fill(5, 0, W * 6);
    const batch = { source: [crop(0), crop(8)], target: [{ ...crop(4), labels: corrected }, { ...crop(12), labels: null }] };
    const losses = [];
    for (let i = 0; i < 4; i++) losses.push(await replicas.step(batch, i, random));
    for (const l of losses) expect(Number.isFinite(l.total)).toBe(true);
    expect(losses[0]!.correctedCe).toBeGreaterThan(0);
  });

  it.each(['corda', 'dacs'] as const)("split by passes, equals one trainer to the bit (%s, with a correction in the batch)", async (method) => {
    // iters 10 with the source-only warm-up of the first fifth: steps 0-1 have one pass (split by pairs), 2-3 three.
    const config = defaultConfig(method, 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 1, parallelSplit: 'passes' });
    const corrected = new Uint8Array(W * H).fill(255).fill(5, 0, W * 6);
    const batch = { source: [crop(0), crop(8)], target: [{ ...crop(4), labels: corrected }, { ...crop(12), labels: null }] };
    const single = new Trainer(config);
    const replicas = new ParallelTrainer(config, 'wasm', 2);
    parallel.push(replicas);
    await replicas.ready();
    // The warm-up steps split by pairs (batch norm per half) would differ: both start after them, from one state.
    await replicas.restore(new Map((await single.snapshot()).map((t) => [t.name, t])));
    const [a, b] = [new Rng(5), new Rng(5)];
    for (let i = 2; i < 5; i++) {
      const one = await single.step(batch, i, a);
      const two = await replicas.step(batch, i, b);
      expect(two, `step ${i}`).toEqual(one);
      expect(one.mixedCe).toBeGreaterThan(0);
      expect(one.correctedCe).toBeGreaterThan(0);
    }
    const mine = new Map((await single.snapshot()).map((t) => [t.name, t.data]));
    for (const t of await replicas.snapshot()) expect(Array.from(t.data), t.name).toEqual(Array.from(mine.get(t.name)!));
    single.dispose();
  });
});
