// An adaptation round end to end, as ./plan.ts planned it: train (with progress, cancel and atomic checkpoints), then predict
// every target image (label map, confidence, difficulty, both depth heads) and evaluate against ground truth.
// `resumeRound` continues an interrupted round from its last checkpoint with the same random state.
import { cpus } from 'node:os';
import { METHOD_TRAITS, UserError, type CurvePoint } from '../../shared/api';
import { changedSince, snapshotCorrections, trustedLabels, type CorrectionSnapshot } from '../corrections/roundCorrections';
import type { BackendInfo } from '../model/backend';
import { checkStepFits } from './memoryFit';
import { readCheckpoint, writeCheckpoint, type TensorEntry } from '../model/checkpoint';
import type { CordaNetwork } from '../model/network';
import { describePretrainedReport, loadPretrainedEncoder } from '../model/pretrained';
import { describeInitReport, initRecord, loadTorchInit, type InitReport } from '../model/torchInit';
import { releasePooledGpuBuffers } from '../model/webgpu';
import { Rng } from '../random';
import type { Db } from '../store/db';
import { getDataset, type StoredImage } from '../store/datasetsRepo';
import { images, roundImages, type ResumePlan, type RoundRequest } from './plan';
import { checkpointDir, finalCheckpoint } from './roundCheckpoints';
import * as rounds from '../store/roundsRepo';
import type { RoundConfig } from './config';
import { cropSample, loadSample, SampleCache } from './data';
import { INVALID_DEPTH } from '../datasets/depthIO';
import { networkFor } from './networkFor';
import { ParallelTrainer } from './parallel';
import { predictAndEvaluate, type RoundMetrics } from './predict';
import { Trainer, type Batch, type StepLosses } from './trainer';
import { curvePoint, curveUpTo, labelledValImages, scoreImages, scoresAfter, scoringsLeft } from './valCurve';

/** What a round needs from a trainer: one in this thread, or data-parallel replicas in worker threads. */
interface RoundTrainer {
  readonly workers: number;
  step(batch: Batch, iter: number, random: Rng): Promise<StepLosses>;
  snapshot(): Promise<TensorEntry[]>;
  restore(tensors: Map<string, TensorEntry>, studentOnly?: boolean): void | Promise<void>;
  student(): Promise<CordaNetwork>;
  dispose(): void | Promise<void>;
}

/** The student's initial weights with the pretrained encoder loaded (the rest as the seed initialises it). */
async function pretrainedStart(config: RoundConfig, log?: (line: string) => void): Promise<Map<string, TensorEntry>> {
  const net = networkFor(config);
  try {
    const report = await loadPretrainedEncoder(net, config.pretrained!);
    for (const line of describePretrainedReport(report)) log?.(line);
    return new Map((await net.params.toEntries('student/')).map((t) => [t.name, t]));
  } finally {
    net.dispose();
  }
}

/** The student's initial weights from a PyTorch checkpoint (config.init); the rest as the seed initialises it. */
export async function checkpointStart(config: RoundConfig, log?: (line: string) => void, expectedSha256?: string): Promise<{ tensors: Map<string, TensorEntry>; report: InitReport }> {
  const net = networkFor(config);
  try {
    const report = await loadTorchInit(net, config.init!, config.initFrom, config.preset, expectedSha256);
    for (const line of describeInitReport(report)) log?.(line);
    return { tensors: new Map((await net.params.toEntries('student/')).map((t) => [t.name, t])), report };
  } finally {
    net.dispose();
  }
}

/**
 * Threads for training: wasm and cpu run one core per thread in Node, tfjs-node uses every core by itself, and
 * replicas on one GPU would only compete for it (and each hold a copy of the model).
 */
export function trainingThreads(config: RoundConfig, backend: BackendInfo): number {
  if (backend.name === 'webgpu' || backend.name === 'tensorflow-gpu') return 1;
  if (config.workers > 0) return Math.min(config.workers, config.batchSize);
  if (backend.name !== 'wasm' && backend.name !== 'cpu') return 1;
  return Math.max(1, Math.min(cpus().length, config.batchSize));
}

async function makeTrainer(config: RoundConfig, backend: BackendInfo): Promise<RoundTrainer> {
  const threads = trainingThreads(config, backend);
  if (threads <= 1) {
    const single = new Trainer(config);
    return {
      workers: 1,
      step: (b, i, r) => single.step(b, i, r),
      snapshot: () => single.snapshot(),
      restore: (t, s) => single.restore(t, s),
      student: async () => single.student,
      dispose: () => single.dispose(),
    };
  }
  const parallel = new ParallelTrainer(config, backend.name, threads);
  await parallel.ready();
  return parallel;
}

export interface RoundProgress {
  phase: 'training' | 'predicting';
  iteration: number;
  iters: number;
  losses?: StepLosses;
  imagesPerSecond?: number;
  etaSeconds?: number;
  done?: number;
  total?: number;
  /** Val mIoU against iterations so far (every point). */
  curve?: CurvePoint[];
}

export interface RoundContext {
  db: Db;
  projectDir: string;
  backend: BackendInfo;
  signal?: AbortSignal;
  onProgress?: (p: RoundProgress) => void;
  /** How often (iterations) progress events carry losses. */
  progressEvery?: number;
  /** Told the new round's id as soon as its row exists. */
  onStarted?: (roundId: number) => void;
  /** Informational lines (e.g. what a pretrained encoder load matched). */
  log?: (line: string) => void;
}

export interface RoundResult {
  roundId: number;
  backend: BackendInfo;
  /** trainSeconds leaves out the val scorings, which take curveSeconds. */
  timings: { threads: number; trainSeconds: number; predictSeconds: number; msPerStep: number; curveSeconds: number };
  metrics: RoundMetrics;
  curve: CurvePoint[];
  /** The checkpoint file the round started from (--init), with its load report. */
  init?: InitReport;
}

/** Refuses a round whose training step would not fit the backend's memory (./memoryFit.ts), before anything is written. */
export async function checkRoundFits(config: RoundConfig, backend: BackendInfo): Promise<void> {
  // Split by passes, each thread holds a pass of the whole batch, as one thread would.
  await checkStepFits(config, backend.name, config.parallelSplit === 'passes' ? 1 : trainingThreads(config, backend));
}

export type { RoundRequest };

export async function startRound(ctx: RoundContext, req: RoundRequest): Promise<RoundResult> {
  const data = roundImages(ctx.db, req);
  await checkRoundFits(req.config, ctx.backend);
  const source = getDataset(ctx.db, req.sourceDatasetId)!;
  const target = getDataset(ctx.db, req.targetDatasetId)!;
  const protocol = source.kind === 'synthia' ? 16 : 19;
  // Read and matched before the round exists: a file that does not fit writes nothing.
  const start = req.config.init ? await checkpointStart(req.config, ctx.log) : null;
  const corrections = usesCorrections(req.config) ? snapshotCorrections(ctx.db, data.target) : null;
  if (corrections?.images) ctx.log?.(`Trusting ${corrections.pixels} corrected pixels on ${corrections.images} target image(s).`);
  const roundConfig: RoundConfig = {
    ...req.config,
    // A whole network from a checkpoint (nothing missing: its depth heads too) keeps the heads' raw units, as the
    // reference trains them and as `import-model` stores a round; else the scale resolves as for any round.
    depthScale: start && start.report.missing.length === 0 && req.config.depthScale === 0 && METHOD_TRAITS[req.config.method].depth ? 1 : await resolveDepthScale(ctx.db, req, data.source),
    // A round from a trained parent has nothing to warm up.
    sourceWarmup: req.parentRoundId != null || start ? 0 : req.config.sourceWarmup,
  };
  const config = {
    ...roundConfig, protocol, sourceName: source.name, targetName: target.name, ...(corrections && { corrections }),
    ...(start && { startedFrom: initRecord(start.report) }),
  };
  const roundId = rounds.createRound(ctx.db, {
    parentId: req.parentRoundId ?? null,
    sourceDatasetId: source.id,
    targetDatasetId: target.id,
    method: req.config.method,
    preset: req.config.preset,
    config,
    backend: ctx.backend,
  });
  ctx.onStarted?.(roundId);
  const result = await runRound(ctx, roundId, roundConfig, data, req.parentRoundId ?? null, null, corrections, start?.tensors);
  return start ? { ...result, init: start.report } : result;
}

/**
 * The depth scale a new round trains with: as configured; else its parent's (whose depth heads learnt at that
 * scale); else the median valid depth target over a few source images (CORDA.md §2 targets reach hundreds).
 */
async function resolveDepthScale(db: Db, req: RoundRequest, source: StoredImage[]): Promise<number> {
  if (req.config.depthScale > 0 || !METHOD_TRAITS[req.config.method].depth) return req.config.depthScale;
  const parent = req.parentRoundId != null ? rounds.getRound(db, req.parentRoundId) : null;
  // A CorDA parent's depth heads carry its scale; one from before depth scales learnt raw targets (scale 1).
  if (parent && METHOD_TRAITS[parent.method as RoundConfig['method']]?.depth) return Number(parent.config.depthScale ?? 0) || 1;
  const values: number[] = [];
  for (const image of source.slice(0, 8)) {
    const { depth } = await loadSample(image, req.config.sourceWidth, { labels: false, depth: true });
    for (let i = 0; depth && i < depth.length; i += 7) if (Math.abs(depth[i]! - INVALID_DEPTH) > 1e-4) values.push(depth[i]!);
  }
  if (values.length === 0) return 1;
  values.sort((a, b) => a - b);
  return Math.max(1e-3, values[values.length >> 1]!);
}

const usesCorrections = (config: RoundConfig) => config.useCorrections && METHOD_TRAITS[config.method].target;

export async function resumeRound(ctx: RoundContext, plan: ResumePlan): Promise<RoundResult> {
  const { roundId, config } = plan;
  const round = rounds.getRound(ctx.db, roundId)!;
  const data = roundImages(ctx.db, plan);
  await checkRoundFits(config, ctx.backend);
  rounds.updateRound(ctx.db, roundId, { status: 'running', error: null, backend: ctx.backend as unknown as Record<string, unknown> });
  const checkpoint = rounds.latestCheckpoint(ctx.db, roundId);
  // The images corrected when the round started; a round from before corrections existed has none.
  const corrections = (round.config.corrections as CorrectionSnapshot | undefined) ?? null;
  const changed = corrections ? changedSince(ctx.db, corrections) : 0;
  if (changed > 0) ctx.log?.(`${changed} corrected image(s) were edited since round ${roundId} started; it continues with their current labels.`);
  return runRound(ctx, roundId, config, data, plan.parentRoundId ?? null, checkpoint ?? null, corrections);
}

async function runRound(
  ctx: RoundContext,
  roundId: number,
  config: RoundConfig,
  data: { source: StoredImage[]; target: StoredImage[] },
  parentRoundId: number | null,
  checkpoint: { iteration: number; path: string } | null,
  corrections: CorrectionSnapshot | null,
  initial?: Map<string, TensorEntry>,
): Promise<RoundResult> {
  const trainer = await makeTrainer(config, ctx.backend);
  const random = new Rng(config.seed * 7919 + 17);
  let start = 0;
  if (checkpoint) {
    const saved = readCheckpoint(checkpoint.path);
    await trainer.restore(saved.tensors);
    random.state = saved.meta.randomState as number;
    start = checkpoint.iteration;
  } else if (parentRoundId != null) {
    await trainer.restore(readCheckpoint(finalCheckpoint(ctx.db, parentRoundId).path).tensors, true);
  } else if (config.pretrained) {
    await trainer.restore(await pretrainedStart(config, ctx.log), true);
  } else if (config.init) {
    // A resumed round with no checkpoint yet reads the file again, and refuses it if it changed.
    const recorded = (rounds.getRound(ctx.db, roundId)?.config.startedFrom as { sha256?: string } | undefined)?.sha256;
    await trainer.restore(initial ?? (await checkpointStart(config, ctx.log, recorded)).tensors, true);
  }
  const { target: adapts, depth: withDepth } = METHOD_TRAITS[config.method];
  const sourceCache = new SampleCache(data.source, config.sourceWidth, { labels: true, depth: withDepth });
  const targetCache = new SampleCache(data.target, config.targetWidth, {
    labels: false,
    depth: withDepth,
    ...(corrections && { trusted: trustedLabels(ctx.db, corrections) }),
  });
  const { width: cw, height: ch } = config.crop;

  const drawCrops = async (cache: SampleCache) => {
    const crops = [];
    for (let b = 0; b < config.batchSize; b++) {
      const sample = await cache.get(random.int(0, cache.size - 1));
      const x = random.int(0, sample.width - cw);
      const y = random.int(0, sample.height - ch);
      crops.push(cropSample(sample, x, y, cw, ch, config.flip && random.next() < 0.5));
    }
    return crops;
  };

  const saveCheckpoint = async (iteration: number) => {
    const dir = checkpointDir(ctx.projectDir, roundId, iteration);
    const sha = writeCheckpoint(dir, await trainer.snapshot(), { iteration, randomState: random.state, config });
    rounds.addCheckpoint(ctx.db, roundId, iteration, dir, sha);
  };

  // The learning curve: points scored before the checkpoint this run starts from are kept.
  const curve = curveUpTo(rounds.getRound(ctx.db, roundId)?.curve ?? [], start);
  rounds.updateRound(ctx.db, roundId, { curve });
  const valImages = config.evalEvery > 0 ? labelledValImages(images(ctx.db, data.target[0]!.datasetId)) : [];
  let curveMs = 0;
  let scorings = 0;
  let lastLosses: StepLosses | null = null;
  const scoreVal = async (iteration: number, losses: StepLosses) => {
    const t0 = performance.now();
    const student = await trainer.student();
    const valMIoU = await scoreImages(student, valImages, config.targetWidth, ctx.signal).finally(() => trainer.workers > 1 && student.dispose());
    curve.push(curvePoint(iteration, valMIoU, losses));
    rounds.updateRound(ctx.db, roundId, { curve });
    curveMs += performance.now() - t0;
    scorings++;
  };

  const trainStart = performance.now();
  let stepMs = 0;
  try {
    for (let iter = start; iter < config.iters; iter++) {
      ctx.signal?.throwIfAborted();
      const batch = { source: await drawCrops(sourceCache), target: adapts ? await drawCrops(targetCache) : [] };
      const t0 = performance.now();
      const losses = await trainer.step(batch, iter, random);
      stepMs += performance.now() - t0;
      const done = iter + 1;
      if (!Number.isFinite(losses.total)) throw new UserError(`Training diverged at iteration ${done} (loss ${losses.total}); lower the learning rate and start a new round.`);
      lastLosses = losses;
      // Before the checkpoint: a checkpoint at iteration k then implies every point up to k is stored.
      if (valImages.length > 0 && scoresAfter(done, config)) await scoreVal(done, losses);
      if (done % config.checkpointEvery === 0 || done === config.iters) await saveCheckpoint(done);
      if (done % (ctx.progressEvery ?? 5) === 0 || done === config.iters || done === start + 1) {
        const seconds = (performance.now() - trainStart - curveMs) / 1000;
        const rate = (done - start) / seconds;
        const scoringSeconds = scorings > 0 ? (curveMs / 1000 / scorings) * scoringsLeft(done, config) : 0;
        ctx.onProgress?.({
          phase: 'training',
          iteration: done,
          iters: config.iters,
          losses,
          imagesPerSecond: (rate * config.batchSize * (adapts ? 2 : 1)),
          etaSeconds: (config.iters - done) / rate + scoringSeconds,
          curve: [...curve],
        });
      }
    }
    const trainSeconds = (performance.now() - trainStart - curveMs) / 1000;
    rounds.updateRound(ctx.db, roundId, { status: 'predicting', iteration: config.iters });
    const predictStart = performance.now();
    const targetAll = images(ctx.db, data.target[0]!.datasetId);
    const student = await trainer.student();
    const metrics = await predictAndEvaluate(ctx.db, roundId, student, targetAll, config, {
      signal: ctx.signal,
      log: ctx.log,
      onProgress: (doneImages, total) => ctx.onProgress?.({ phase: 'predicting', iteration: config.iters, iters: config.iters, done: doneImages, total, curve: [...curve] }),
    }).finally(() => trainer.workers > 1 && student.dispose());
    const timings = {
      threads: trainer.workers,
      trainSeconds,
      predictSeconds: (performance.now() - predictStart) / 1000,
      msPerStep: stepMs / Math.max(1, config.iters - start),
      curveSeconds: curveMs / 1000,
    };
    // The curve's last point is the final evaluation's val score: the same images and network as a scoring.
    if (valImages.length > 0 && metrics.val) curve.push(curvePoint(config.iters, metrics.val.mIoU, lastLosses));
    rounds.updateRound(ctx.db, roundId, { status: 'done', timings, metrics: metrics as unknown as Record<string, unknown>, curve, finished: true });
    return { roundId, backend: ctx.backend, timings, metrics, curve };
  } catch (error) {
    const cancelled = ctx.signal?.aborted;
    rounds.updateRound(ctx.db, roundId, {
      status: cancelled ? 'cancelled' : 'failed',
      error: cancelled ? 'Cancelled; resume it from its last checkpoint.' : (error as Error).message,
    });
    throw error;
  } finally {
    await trainer.dispose();
    releasePooledGpuBuffers();
  }
}
