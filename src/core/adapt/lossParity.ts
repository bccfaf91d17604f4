// The same training run on two backends: identical initial weights (the network's seeded init), identical batches
// and identical random draws (ClassMix classes, augmentation), so the loss sequences differ only by each backend's
// float32 arithmetic. The GPU check kit runs it on a real GPU against wasm; a divergence means a wrong kernel.
import { initBackend, type BackendInfo, type BackendName } from '../model/backend';
import type { PresetName } from '../model/network';
import { releasePooledGpuBuffers } from '../model/webgpu';
import { Rng } from '../random';
import { defaultConfig } from './config';
import { toyCrop } from './toyCrop';
import { Trainer, type Batch } from './trainer';

export interface LossRunOptions {
  preset: PresetName;
  width: number;
  height: number;
  batch: number;
  steps: number;
  seed: number;
}

/**
 * The learning rate of the compared runs. At the presets' from-scratch rate (0.01) two correct float32 backends
 * drift apart within 20 steps (measured, tiny: wasm against cpu 1.1e-2, against SwiftShader 6.7e-2 by step 17: the
 * pseudo-labels and the confidence share are thresholds); at 1e-3 the loss still falls from 14 to 1.6 in 20 steps
 * and wasm and SwiftShader stayed within 2.1e-6 of each other at every step.
 */
export const PARITY_LR = 1e-3;

/** Batch `step` of a run: textured toy street crops, the car shifted per pair and step (targets unlabelled). */
function batchAt(options: LossRunOptions, step: number): Batch {
  const pairs = Array.from({ length: options.batch }, (_, pair) => (step * options.batch + pair) % 8);
  return {
    source: pairs.map((k) => toyCrop(options.width, options.height, 2 * k, 4 * k, true)),
    target: pairs.map((k) => ({ ...toyCrop(options.width, options.height, 14 - k, 30 + 3 * k, true), labels: null })),
  };
}

/**
 * The total CorDA loss of each of `steps` training steps on `backend`, from the preset's seeded weights, with the
 * adaptation terms on from the first step (no source-only warm-up) and the learning rate PARITY_LR.
 */
export async function lossSequence(backend: BackendName, options: LossRunOptions): Promise<{ backend: BackendInfo; losses: number[] }> {
  const info = await initBackend(backend);
  const config = defaultConfig('corda', options.preset, {
    crop: { width: options.width, height: options.height },
    batchSize: options.batch,
    iters: options.steps,
    seed: options.seed,
    sourceWarmup: 0,
    lr: PARITY_LR,
  });
  const trainer = new Trainer(config);
  const random = new Rng(options.seed);
  const losses: number[] = [];
  try {
    for (let step = 0; step < options.steps; step++) losses.push((await trainer.step(batchAt(options, step), step, random)).total);
  } finally {
    trainer.dispose();
    releasePooledGpuBuffers();
  }
  return { backend: info, losses };
}

/** Per step |a - b| / max(|a|, 1e-6); the largest of them and the step (0-based) where it falls. */
export function compareLosses(reference: number[], other: number[]): { maxRelDiff: number; worstStep: number } {
  if (reference.length !== other.length) throw new Error(`loss sequences of ${reference.length} and ${other.length} steps cannot be compared`);
  let maxRelDiff = 0;
  let worstStep = 0;
  reference.forEach((a, i) => {
    const b = other[i]!;
    // NaN on either side is the worst possible difference, never a pass.
    const d = Number.isFinite(a) && Number.isFinite(b) ? Math.abs(a - b) / Math.max(Math.abs(a), 1e-6) : Infinity;
    if (d > maxRelDiff) {
      maxRelDiff = d;
      worstStep = i;
    }
  });
  return { maxRelDiff, worstStep };
}
