// Kernel profile of one CorDA training step (not a test): kernels by name with their count and summed wall time.
//   npx tsx src/core/adapt/profileStep.ts [preset W H method]      (default tiny 256 128 corda)
// Times are per-kernel wall clock on the wasm backend; on a loaded machine only the counts are exact.
import * as tf from '@tensorflow/tfjs-core';
import { defaultConfig } from './config';
import { Trainer } from './trainer';
import { syntheticBatch } from './toyCrop';
import { Rng } from '../random';
import { initBackend } from '../model/backend';
import type { Method, PresetName } from '../model/network';

async function main(): Promise<void> {
  const [preset = 'tiny', ws = '256', hs = '128', method = 'corda'] = process.argv.slice(2);
  const [w, h] = [Number(ws), Number(hs)];
  await initBackend('wasm');
  const config = defaultConfig(method as Method, preset as PresetName, { crop: { width: w, height: h }, iters: 10, batchSize: 2, seed: 1 });
  const trainer = new Trainer(config);
  const batch = syntheticBatch(w, h);
  const random = new Rng(5);
  for (let i = 0; i < 2; i++) await trainer.step(batch, i, random);
  const t0 = performance.now();
  const profile = await tf.profile(async () => {
    await trainer.step(batch, 2, random);
  });
  const wall = performance.now() - t0;
  const byName = new Map<string, { count: number; ms: number; shapes: Map<string, number> }>();
  for (const k of profile.kernels) {
    const e = byName.get(k.name) ?? { count: 0, ms: 0, shapes: new Map<string, number>() };
    e.count++;
    e.ms += k.kernelTimeMs as number;
    const shapes = k.inputShapes.map((s) => `[${s}]`).join(' ');
    e.shapes.set(shapes, (e.shapes.get(shapes) ?? 0) + (k.kernelTimeMs as number));
    byName.set(k.name, e);
  }
  const rows = [...byName].sort((a, b) => b[1].ms - a[1].ms);
  const totalMs = rows.reduce((a, [, e]) => a + e.ms, 0);
  console.log(`${preset} ${method} ${w}x${h} batch 2: ${profile.kernels.length} kernels, ${totalMs.toFixed(0)} ms in kernels, ${wall.toFixed(0)} ms wall (profiled)`);
  for (const [name, e] of rows) {
    const [shapes, ms] = [...e.shapes].sort((a, b) => b[1] - a[1])[0]!;
    console.log(`${name.padEnd(36)} ${String(e.count).padStart(6)} ${e.ms.toFixed(1).padStart(9)} ms   slowest inputs ${shapes} (${ms.toFixed(1)} ms)`);
  }
  trainer.dispose();
}

void main();
