// `corda bench-engine`: training and inference speed of each preset on synthetic crops, with the backend and
// peak memory. A measurement, never a test; `npm run bench` runs it next to the same network in PyTorch.
import { cpus } from 'node:os';
import { METHODS, METHOD_TRAITS, PRESET_NAMES, ROUND_DEFAULTS, UserError, type PresetName } from '../shared/api';
import { defaultConfig, type RoundConfig } from '../core/adapt/config';
import { Rng } from '../core/random';
import { predictSample } from '../core/adapt/predict';
import { Trainer } from '../core/adapt/trainer';
import { syntheticBatch } from '../core/adapt/toyCrop';
import { checkStepFits } from '../core/adapt/memoryFit';
import { ParallelTrainer } from '../core/adapt/parallel';
import { BACKEND_NAMES, describeBackend, initBackend, isBackendName } from '../core/model/backend';
import type { Method } from '../core/model/network';
import * as tf from '../core/model/tf';
import type { CommandHelpers } from './engineCommands';

export interface BenchRow {
  preset: PresetName;
  method: Method;
  size: string;
  batch: number;
  trainMsPerStep: number;
  /** Step time with data-parallel threads (one per core, batch split), null when measured on one core only. */
  parallelMsPerStep: number | null;
  /** The same with the two threads splitting the step's passes instead of its pairs (parallelSplit 'passes'). */
  passSplitMsPerStep: number | null;
  threads: number;
  imagesPerSecond: number;
  inferMsPerImage: number;
  peakTensorMiB: number;
  peakRssMiB: number;
}

export async function benchEngine(options: { presets: PresetName[]; sizes: [number, number][]; steps: number; method: Method; threads: number; backend?: string; log: (line: string) => void }): Promise<{ backend: string; machine: string; rows: BenchRow[] }> {
  if (options.backend !== undefined && !isBackendName(options.backend)) throw new UserError(`Unknown backend "${options.backend}": choose one of ${BACKEND_NAMES.join(', ')}.`);
  const info = await initBackend(options.backend);
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`;
  const rows: BenchRow[] = [];
  for (const preset of options.presets) {
    for (const [w, h] of options.sizes) {
      const config = defaultConfig(options.method, preset, { crop: { width: w, height: h }, iters: options.steps + 2, batchSize: 2, seed: 1 });
      // A step that would not fit wasm's heap is refused with what fits, instead of ending the run with a trap.
      await checkStepFits(config, info.name);
      const trainer = new Trainer(config);
      const batch = syntheticBatch(w, h);
      const random = new Rng(5);
      let peakBytes = 0;
      let peakRss = 0;
      const sampleMemory = () => {
        peakBytes = Math.max(peakBytes, tf.memory().numBytes);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      };
      // Two warm-up steps (kernel setup, first allocations), then the timed ones.
      for (let i = 0; i < 2; i++) await trainer.step(batch, i, random);
      const t0 = performance.now();
      for (let i = 0; i < options.steps; i++) {
        await trainer.step(batch, i + 2, random);
        sampleMemory();
      }
      const trainMs = (performance.now() - t0) / options.steps;
      // Peak tensor memory within one step (tf.profile tracks allocations while the step runs).
      const profile = await tf.profile(async () => {
        await trainer.step(batch, options.steps + 2, random);
      });
      peakBytes = Math.max(peakBytes, profile.peakBytes);
      const sample = { width: w, height: h, rgb: Uint8Array.from(batch.target[0]!.rgb), labels: null, depth: null };
      await predictSample(trainer.student, sample);
      const t1 = performance.now();
      const inferRuns = Math.max(2, Math.min(10, options.steps));
      for (let i = 0; i < inferRuns; i++) {
        await predictSample(trainer.student, sample);
        sampleMemory();
      }
      const inferMs = (performance.now() - t1) / inferRuns;
      trainer.dispose();
      // Data-parallel replicas only where a backend runs one core per thread (wasm, cpu); one GPU trains in one thread.
      const threads = info.name === 'wasm' || info.name === 'cpu' ? Math.min(options.threads, config.batchSize) : 1;
      const timeParallel = async (split: RoundConfig['parallelSplit']): Promise<number> => {
        const replicas = new ParallelTrainer({ ...config, parallelSplit: split }, info.name, threads);
        try {
          await replicas.ready();
          for (let i = 0; i < 2; i++) await replicas.step(batch, i, random);
          const t2 = performance.now();
          for (let i = 0; i < options.steps; i++) await replicas.step(batch, i + 2, random);
          return (performance.now() - t2) / options.steps;
        } finally {
          await replicas.dispose();
        }
      };
      const parallelMs = threads > 1 ? await timeParallel('pairs') : null;
      // Only two replicas split by passes, and only steps with more than one pass (not source-only).
      const passSplitMs = threads === 2 && METHOD_TRAITS[options.method].target ? await timeParallel('passes') : null;
      const imagesPerStep = config.batchSize * (METHOD_TRAITS[options.method].target ? 2 : 1);
      const row: BenchRow = {
        preset,
        method: options.method,
        size: `${w}x${h}`,
        batch: config.batchSize,
        trainMsPerStep: trainMs,
        parallelMsPerStep: parallelMs,
        passSplitMsPerStep: passSplitMs,
        threads,
        imagesPerSecond: (imagesPerStep * 1000) / Math.min(trainMs, parallelMs ?? Infinity, passSplitMs ?? Infinity),
        inferMsPerImage: inferMs,
        peakTensorMiB: peakBytes / 2 ** 20,
        peakRssMiB: peakRss / 2 ** 20,
      };
      rows.push(row);
      options.log(
        `${preset.padEnd(6)} ${row.size.padEnd(8)} train ${trainMs.toFixed(0).padStart(6)} ms/step (1 thread)${parallelMs ? `, ${parallelMs.toFixed(0)} ms/step (${threads} threads)` : ''}${passSplitMs ? `, ${passSplitMs.toFixed(0)} ms/step (split by passes)` : ''}  ${row.imagesPerSecond.toFixed(1).padStart(6)} img/s  infer ${inferMs.toFixed(0).padStart(5)} ms/img  tensors ${row.peakTensorMiB.toFixed(0)} MiB  rss ${row.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  }
  return { backend: describeBackend(info), machine, rows };
}

export function parsePresets(value: string | undefined): PresetName[] {
  const names = (value ?? 'tiny,small,paper').split(',');
  for (const n of names) if (!(PRESET_NAMES as readonly string[]).includes(n)) throw new UserError(`Unknown preset "${n}": choose from ${PRESET_NAMES.join(', ')}.`);
  return names as PresetName[];
}

export function parseSizes(value: string | undefined): [number, number][] {
  return (value ?? '256x128,512x256').split(',').map((s) => {
    const m = s.match(/^(\d+)x(\d+)$/);
    if (!m || Number(m[1]) % 16 || Number(m[2]) % 16) throw new UserError(`Sizes look like 256x128 (multiples of 16), got "${s}".`);
    return [Number(m[1]), Number(m[2])];
  });
}

function wholeNumber(value: string | boolean | undefined, name: string, fallback: number, usage: CommandHelpers['usage']): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw usage(`--${name} must be a whole number ≥ 1, got "${String(value)}".`);
  return n;
}

/** `corda bench-engine [--presets …] [--sizes …] [--steps N] [--method M] [--backend B] [--threads T] [--json]`. */
export async function benchEngineCommand(args: string[], helpers: Pick<CommandHelpers, 'parse' | 'usage'>): Promise<void> {
  const { values } = helpers.parse(args, {
    presets: { type: 'string' }, sizes: { type: 'string' }, steps: { type: 'string' }, method: { type: 'string' }, backend: { type: 'string' },
    threads: { type: 'string' }, json: { type: 'boolean' },
  });
  const method = (values.method ?? ROUND_DEFAULTS.method) as Method;
  if (!METHODS.includes(method)) throw helpers.usage(`--method must be ${METHODS.slice(0, -1).join(', ')} or ${METHODS.at(-1)}, got "${method}".`);
  const result = await benchEngine({
    presets: parsePresets(values.presets as string | undefined),
    sizes: parseSizes(values.sizes as string | undefined),
    steps: wholeNumber(values.steps, 'steps', 5, helpers.usage),
    threads: wholeNumber(values.threads, 'threads', cpus().length, helpers.usage),
    method,
    backend: values.backend as string | undefined,
    log: (line) => (values.json ? process.stderr : process.stdout).write(`${line}\n`),
  });
  if (values.json) console.log(JSON.stringify(result));
}
