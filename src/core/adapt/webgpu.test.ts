// The engine on WebGPU, checked on SwiftShader (a software Vulkan driver, ~10-50x slower than wasm, so everything
// here is small): the tiny network's losses and gradients match wasm, prediction and difficulty read tensors
// asynchronously only, tensors and GPU memory stay flat over steps and across rounds, and `corda adapt --backend
// webgpu` writes a round that records its adapter. In CI these must run: a missing piece fails the file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../datasets/demo/generate';
import { importDataset } from '../datasets/importDataset';
import { initBackend, type BackendInfo } from '../model/backend';
import { CordaNetwork, PRESETS } from '../model/network';
import { swiftShaderSetup } from '../model/swiftShader';
import { gpuMemory, releasePooledGpuBuffers, startWebGpu } from '../model/webgpu';
import * as tf from '../model/tf';
import { Rng } from '../random';
import { openProjectDb, type Db } from '../store/db';
import { getRound } from '../store/roundsRepo';
import { defaultConfig } from './config';
import { toyCrop } from './toyCrop';
import { predictSample, type Prediction } from './predict';
import { startRound } from './round';
import { summariseRound } from './roundSummary';
import { Trainer, disposeGradients, prepareBatch, type PreparedBatch, type StepLosses } from './trainer';

const setup = swiftShaderSetup();
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
if ('missing' in setup) {
  if (inCi) throw new Error(`The WebGPU tests cannot run in CI: ${setup.missing}`);
  console.log(`Skipping the WebGPU tests: ${setup.missing}`);
} else {
  // Dawn reads it when it creates its instance (the first initBackend('webgpu') of this process).
  process.env.VK_ICD_FILENAMES = setup.icd;
}

/** Tolerances, webgpu against wasm (float32 on both, different summation orders and kernels). */
const LOSS_RTOL = 1e-4;
/** Per parameter: the largest gradient difference over the largest gradient magnitude of that parameter. */
const GRAD_RTOL = 1e-3;
const CONFIDENCE_ATOL = 1e-3;

const W = 64;
const H = 32;
/** Rounds train and predict at a quarter of that: SwiftShader's time grows with the pixels even this small. */
const ROUND_CROP = { width: 32, height: 16 };

/** The toy street crop, with a little texture so the network sees more than three colours. */
const crop = (shift: number, tint: number) => toyCrop(W, H, shift, tint, true);

const corda = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 3, batchSize: 1, sourceWarmup: 0 });

interface StepResult {
  losses: StepLosses;
  grads: Map<string, Float32Array>;
}

async function gradientsOn(backend: 'wasm' | 'webgpu', batch: PreparedBatch): Promise<StepResult> {
  await initBackend(backend);
  const trainer = new Trainer(corda);
  try {
    const computed = await trainer.computeGradients(batch, 0);
    const grads = new Map<string, Float32Array>();
    for (const [name, t] of Object.entries(computed.grads)) grads.set(name, (await t.data()) as Float32Array);
    disposeGradients(computed);
    return { losses: computed.losses, grads };
  } finally {
    trainer.dispose();
  }
}

async function predictOn(backend: 'wasm' | 'webgpu', sample: Parameters<typeof predictSample>[1]): Promise<Prediction> {
  await initBackend(backend);
  const net = new CordaNetwork(PRESETS.tiny, 'corda', 5).build();
  try {
    return await predictSample(net, sample);
  } finally {
    net.dispose();
  }
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.skipIf('missing' in setup)('the engine on WebGPU (SwiftShader)', () => {
  let webgpu: BackendInfo;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'corda-webgpu-'));
    webgpu = await initBackend('webgpu');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs on the software adapter only because it was named, and says which adapter it is', async () => {
    expect(webgpu).toMatchObject({ name: 'webgpu', tfjsBackend: 'webgpu', adapter: { software: true } });
    expect(webgpu.adapter!.architecture).toMatch(/swiftshader/i);
    // The automatic order never picks a software adapter (tf on another backend makes initBackend choose again).
    await expect(startWebGpu({ allowSoftware: false })).rejects.toThrow(/^the only adapter is SwiftShader \(software\), used only when named/);
    await tf.setBackend('cpu');
    const lines: string[] = [];
    const automatic = await initBackend(undefined, (l) => lines.push(l));
    expect(automatic.name).not.toBe('webgpu');
    expect(lines).toContain('backend: webgpu unavailable (the only adapter is SwiftShader (software), used only when named with --backend webgpu)');
  });

  it(`matches wasm: the tiny network's CorDA losses within ${LOSS_RTOL} and gradients within ${GRAD_RTOL} (relative)`, async () => {
    const batch = prepareBatch({ source: [crop(0, 0)], target: [{ ...crop(6, 30), labels: null }] }, new Rng(9), { method: 'corda', hue: 0.25 });
    const reference = await gradientsOn('wasm', batch);
    const gpu = await gradientsOn('webgpu', batch);
    for (const key of Object.keys(reference.losses) as (keyof StepLosses)[]) {
      expect(Math.abs(gpu.losses[key] - reference.losses[key]), key).toBeLessThanOrEqual(LOSS_RTOL * Math.max(1, Math.abs(reference.losses[key])));
    }
    expect([...gpu.grads.keys()].sort()).toEqual([...reference.grads.keys()].sort());
    expect(reference.grads.size).toBeGreaterThan(40);
    for (const [name, ref] of reference.grads) {
      expect(maxDiff(gpu.grads.get(name)!, ref), name).toBeLessThanOrEqual(GRAD_RTOL * maxAbs(ref) + 1e-7);
    }
  });

  it('predicts labels, confidence, difficulty and depth like wasm, reading tensors asynchronously only', async () => {
    const c = crop(3, 10);
    const sample = { width: W, height: H, rgb: Uint8Array.from(c.rgb), labels: null, depth: c.depth };
    const reference = await predictOn('wasm', sample);
    const gpu = await predictOn('webgpu', sample);
    // Any synchronous read on the way would have thrown: under dawn.node they do.
    const onGpu = tf.tidy(() => tf.mul(tf.ones([4096]), 2));
    expect(() => onGpu.dataSync()).toThrow(/OffscreenCanvas/);
    onGpu.dispose();
    const agree = gpu.labels.filter((l, i) => l === reference.labels[i]).length / gpu.labels.length;
    expect(agree).toBeGreaterThanOrEqual(0.99);
    expect(maxDiff(gpu.confidence, reference.confidence)).toBeLessThanOrEqual(CONFIDENCE_ATOL);
    expect(maxDiff(gpu.difficulty, reference.difficulty)).toBeLessThanOrEqual(CONFIDENCE_ATOL);
    expect(maxDiff(gpu.depthSrc!, reference.depthSrc!)).toBeLessThanOrEqual(1e-3 * maxAbs(reference.depthSrc!));
  });

  describe('rounds', () => {
    let db: Db;
    let project: string;
    let cli: Promise<{ status: number | null; stdout: string; stderr: string }>;
    let cliProject: string;

    beforeAll(async () => {
      // One train and one val target image: prediction and evaluation run on both, at 32x16.
      const demo = await generateDemoData(join(work, 'demo'), { images: 2, width: 128, height: 64, seed: 2 });
      project = join(work, 'project');
      cliProject = join(work, 'cli-project');
      for (const dir of [cliProject, project]) {
        db = openProjectDb(dir, { create: true });
        for (const folder of [demo.gta5, demo.cityscapes]) await importDataset(db, folder, { projectDir: dir });
        if (dir === cliProject) db.close();
      }
      // The CLI round runs in its own process while this one trains (SwiftShader keeps about one core busy).
      const crop = `${ROUND_CROP.width}x${ROUND_CROP.height}`;
      const args = ['adapt', '--project', cliProject, '--backend', 'webgpu', '--iters', '2', '--crop', crop, '--working-width', String(ROUND_CROP.width), '--batch', '1', '--json'];
      const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts'), ...args], {
        env: { ...process.env, VK_ICD_FILENAMES: (setup as { icd: string }).icd },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      cli = new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
    });
    afterAll(() => db?.close());

    it('keeps tensors and GPU memory flat over the steps of a round and across two rounds', async () => {
      const backend = await initBackend('webgpu');
      const config = { ...corda, crop: ROUND_CROP, iters: 2, sourceWidth: ROUND_CROP.width, targetWidth: ROUND_CROP.width, checkpointEvery: 2 };
      const request = { sourceDatasetId: 1, targetDatasetId: 2, config };
      const memory = () => ({ tensors: tf.memory().numTensors, ...gpuMemory()! });
      releasePooledGpuBuffers();
      const before = memory();
      const rounds: { steps: ReturnType<typeof memory>[]; after: ReturnType<typeof memory> }[] = [];
      for (let round = 0; round < 2; round++) {
        const steps: ReturnType<typeof memory>[] = [];
        const onProgress = (p: { phase: string }) => p.phase === 'training' && steps.push(memory());
        const result = await startRound({ db, projectDir: project, backend, onProgress, progressEvery: 1 }, request);
        expect(result.backend.name).toBe('webgpu');
        rounds.push({ steps, after: memory() });
      }
      for (const { steps, after } of rounds) {
        expect(steps).toHaveLength(2);
        // The same live tensors (student, teacher, momentum) and GPU bytes in use after every step.
        expect(steps[1]!.tensors).toBe(steps[0]!.tensors);
        expect(steps[1]!.bytesInUse).toBe(steps[0]!.bytesInUse);
        // After the round nothing is left, and the buffers tfjs pooled are given back to the device.
        expect(after).toEqual(before);
      }
      expect(rounds[1]!.steps.map((s) => [s.tensors, s.bytesInUse])).toEqual(rounds[0]!.steps.map((s) => [s.tensors, s.bytesInUse]));
    }, 180_000);

    it('`corda adapt --backend webgpu --iters 2` finishes a round that records the adapter', async () => {
      const run = await cli;
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout);
      expect(out.backend).toBe('webgpu');
      expect(out.metrics.mIoU).toBeGreaterThanOrEqual(0);
      const cliDb = openProjectDb(cliProject);
      try {
        const round = getRound(cliDb, out.roundId)!;
        expect(round.status).toBe('done');
        expect(round.backend).toMatchObject({ name: 'webgpu', adapter: { vendor: expect.any(String), architecture: expect.stringMatching(/swiftshader/i), software: true } });
        expect(summariseRound(cliDb, round, () => 1).backend).toBe('webgpu · SwiftShader (software)');
      } finally {
        cliDb.close();
      }
    }, 180_000);
  });
});
