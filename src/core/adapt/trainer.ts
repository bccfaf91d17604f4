// One adaptation step (CORDA.md §3–4) for source-only, DACS and CorDA, on any backend. Everything the step
// allocates is released before it returns (the tensor count stays flat over a round); only loss values are
// read back, asynchronously.
import * as tf from '../model/tf';
import { METHOD_TRAITS, UserError } from '../../shared/api';
import { IGNORE, NUM_CLASSES } from '../../shared/labels';
import type { CordaNetwork, BatchNormUpdate, NetworkOutputs } from '../model/network';
import type { TensorEntry } from '../model/checkpoint';
import { augmentBatch, drawAugment, recolourToTarget, type AugmentParams } from './augment';
import { classMask, mix, pickHalf, presentClasses } from './classmix';
import type { RoundConfig } from './config';
import type { Rng } from '../random';
import type { Crop } from './data';
import { berHu, crossEntropy, depthDiscrepancyWeight, detached, mixedTargets, pixelTargets, validDepthMask, weightedCrossEntropy } from './losses';
import { networkFor, resolvedDepthScale } from './networkFor';
import { Sgd, updateEma } from './optim';
import { blend } from '../model/kernels/update';

export interface Batch {
  source: Crop[];
  target: Crop[];
}

/** A batch with its random choices drawn (ClassMix classes and augmentation per pair), so that replicas can
 * split it by pair and still compute exactly what one trainer would. */
export interface PreparedBatch extends Batch {
  mixClasses: number[][];
  augment: AugmentParams[];
  /**
   * Whether the step runs the supervised pass on the target crops' corrections. Decided for the whole batch, so
   * every replica runs the same passes (their batch-norm statistics are averaged pass by pass).
   */
  supervise: boolean;
}

export function prepareBatch(batch: Batch, random: Rng, config: Pick<RoundConfig, 'method' | 'hue'>): PreparedBatch {
  if (!METHOD_TRAITS[config.method].target) return { ...batch, mixClasses: [], augment: [], supervise: false };
  const mixClasses = batch.source.map((c) => pickHalf(presentClasses(c.labels!), () => random.next()));
  const augment = batch.source.map(() => drawAugment(() => random.next(), config.hue));
  const supervise = batch.target.some((c) => c.labels?.some((label) => label < NUM_CLASSES) ?? false);
  return { ...batch, mixClasses, augment, supervise };
}

/** Pairs [from, to) of a prepared batch (data-parallel replicas each take a slice). */
export function sliceBatch(b: PreparedBatch, from: number, to: number): PreparedBatch {
  return {
    source: b.source.slice(from, to),
    target: b.target.slice(from, to),
    mixClasses: b.mixClasses.slice(from, to),
    augment: b.augment.slice(from, to),
    supervise: b.supervise,
  };
}

/** Gradients by parameter name, batch-norm statistics by variable name, and the loss terms of one batch. */
export interface StepGradients {
  grads: Record<string, tf.Tensor>;
  bnStats: { name: string; mean: tf.Tensor; variance: tf.Tensor }[];
  losses: StepLosses;
}

/** A step's passes, in the order their gradients are summed. */
export type PassName = 'source' | 'mixed' | 'corrected';
export const PASS_ORDER: readonly PassName[] = ['source', 'mixed', 'corrected'];

/** The passes of a step at iteration `iter`: the source pass, and while adapting ClassMix and (when the batch holds
 * corrections) the corrected-target pass. */
export function stepPasses(config: Pick<RoundConfig, 'method' | 'sourceWarmup' | 'iters'>, iter: number, supervise: boolean): PassName[] {
  // A round from scratch first learns the source alone: the teacher's pseudo-labels would be noise.
  const adapt = METHOD_TRAITS[config.method].target && iter >= config.sourceWarmup * config.iters;
  return PASS_ORDER.filter((pass) => pass === 'source' || (adapt && (pass === 'mixed' || supervise)));
}

/** One pass's share of a step: its loss, its gradients by parameter name, and the batch statistics it saw. */
export interface PassGradients {
  pass: PassName;
  value: number;
  grads: Record<string, tf.Tensor>;
  bnStats: StepGradients['bnStats'];
}

export interface StepLosses {
  total: number;
  sourceCe: number;
  sourceDepth: number;
  mixedCe: number;
  mixedDepth: number;
  /** Cross-entropy on the target crops' human-corrected pixels (0 when the batch has none). */
  correctedCe: number;
  /** Share of confident target pixels (DACS q). */
  confidentShare: number;
}

const BN_MOMENTUM = 0.1;

function stack(crops: Crop[], key: 'rgb', h: number, w: number): tf.Tensor4D;
function stack(crops: Crop[], key: 'depth', h: number, w: number): tf.Tensor3D;
function stack(crops: Crop[], key: 'rgb' | 'depth', h: number, w: number): tf.Tensor {
  if (key === 'rgb') {
    const data = new Float32Array(crops.length * h * w * 3);
    crops.forEach((c, i) => data.set(c.rgb, i * h * w * 3));
    return tf.tensor4d(data, [crops.length, h, w, 3]);
  }
  const data = new Float32Array(crops.length * h * w).fill(1);
  crops.forEach((c, i) => c.depth && data.set(c.depth, i * h * w));
  return tf.tensor3d(data, [crops.length, h, w]);
}

function labelTensor(crops: Crop[], h: number, w: number): tf.Tensor3D {
  const data = new Int32Array(crops.length * h * w).fill(255);
  crops.forEach((c, i) => c.labels && data.set(c.labels, i * h * w));
  return tf.tensor3d(data, [crops.length, h, w], 'int32');
}

const squeeze = (t: tf.Tensor4D | null) => tf.squeeze(t!, [3]) as tf.Tensor3D;

/**
 * The value and gradients of each of `passes`, one pass at a time (each inside its own tf.variableGrads, so its
 * activations are freed before the next pass runs). `keepFromPass` runs at the end of every pass, inside its scope,
 * to keep what the caller collected there.
 */
export function eachPassGradients(passes: (() => tf.Scalar)[], varList: tf.Variable[], keepFromPass: () => void = () => {}): { value: tf.Scalar; grads: Record<string, tf.Tensor> }[] {
  return passes.map((pass) =>
    tf.variableGrads(() => {
      // A pass may return a loss it also keeps for the caller: the sum disposes only this copy.
      const loss = tf.clone(pass());
      keepFromPass();
      return loss;
    }, varList),
  );
}

/** The value and gradients of the sum of `passes`, computed one pass at a time and summed in their order. */
export function passByPassGradients(passes: (() => tf.Scalar)[], varList: tf.Variable[], keepFromPass: () => void = () => {}): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  let value: tf.Scalar | null = null;
  const grads: Record<string, tf.Tensor> = {};
  const addInto = <T extends tf.Tensor>(sum: T | null | undefined, next: T): T => {
    if (!sum) return next;
    const total = tf.add(sum, next) as T;
    tf.dispose([sum, next]);
    return total;
  };
  for (const result of eachPassGradients(passes, varList, keepFromPass)) {
    value = addInto(value, result.value);
    for (const [name, grad] of Object.entries(result.grads)) grads[name] = addInto(grads[name], grad);
  }
  if (!value) throw new Error('passByPassGradients needs at least one pass');
  return { value, grads };
}

/** The value and gradients of the sum of `passes` under one tape (every pass's activations held until the end). */
export function jointGradients(passes: (() => tf.Scalar)[], varList: tf.Variable[], keepFromPass: () => void = () => {}): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  return tf.variableGrads(() => {
    let total: tf.Scalar | null = null;
    for (const pass of passes) total = total ? (tf.add(total, pass()) as tf.Scalar) : pass();
    keepFromPass();
    if (!total) throw new Error('jointGradients needs at least one pass');
    return total;
  }, varList);
}

export function disposeGradients(g: StepGradients): void {
  tf.dispose(Object.values(g.grads));
  for (const s of g.bnStats) tf.dispose([s.mean, s.variance]);
}

export class Trainer {
  readonly student: CordaNetwork;
  readonly teacher: CordaNetwork;
  readonly sgd: Sgd;
  /**
   * true: each pass's gradient on its own, summed (one pass's activations in memory at a time). false: every pass
   * under one tape, the unsplit reference that trainer.test.ts compares with.
   */
  passByPass = true;

  constructor(readonly config: RoundConfig) {
    this.student = networkFor(config);
    this.teacher = networkFor(config);
    this.sgd = new Sgd({
      optimizer: config.optimizer,
      lr: config.lr,
      momentum: config.momentum,
      weightDecay: config.weightDecay,
      headLrMultiplier: config.headLrMultiplier,
      tenXGroup: config.tenXGroup,
      weightDecayScope: config.weightDecayScope,
      power: 0.9,
      totalIters: config.iters,
      warmupIters: config.lrWarmup,
    });
  }

  /** One optimisation step at iteration `iter` (0-based); `random` draws ClassMix classes and augmentation. */
  async step(batch: Batch, iter: number, random: Rng): Promise<StepLosses> {
    const computed = await this.computeGradients(prepareBatch(batch, random, this.config), iter);
    try {
      this.apply(computed.grads, computed.bnStats, iter);
    } finally {
      disposeGradients(computed);
    }
    return computed.losses;
  }

  private varNames(): Map<string, string> {
    return new Map([...this.student.params.vars].map(([name, v]) => [v.name, name]));
  }

  /** Losses and gradients of a prepared batch, without changing any weight. The caller disposes the result. */
  async computeGradients(batch: PreparedBatch, iter: number): Promise<StepGradients> {
    const { merged, losses } = await this.gradients(batch, iter, PASS_ORDER, false);
    return { ...merged!, losses };
  }

  /**
   * The gradients of some of the step's passes, each on its own (`PASS_ORDER` sums them into the step's). Data-
   * parallel replicas each run some passes of the whole batch and the coordinator sums them in that order, which
   * is what computeGradients computes, to the bit. The caller disposes the result.
   */
  async computePassGradients(batch: PreparedBatch, iter: number, only: readonly PassName[]): Promise<{ passes: PassGradients[]; losses: StepLosses }> {
    const { separate, losses } = await this.gradients(batch, iter, only, true);
    return { passes: separate!, losses };
  }

  /** The passes in `only` that this step has: summed (`merged`) or each on its own (`separate`). */
  private async gradients(
    batch: PreparedBatch,
    iter: number,
    only: readonly PassName[],
    separately: boolean,
  ): Promise<{ merged?: Omit<StepGradients, 'losses'>; separate?: PassGradients[]; losses: StepLosses }> {
    const { crop, method } = this.config;
    const h = crop.height;
    const w = crop.width;
    const { depth: withDepth } = METHOD_TRAITS[method];
    const runs = stepPasses(this.config, iter, batch.supervise).filter((pass) => only.includes(pass));
    const adapt = stepPasses(this.config, iter, false).includes('mixed');
    const wantsMixed = runs.includes('mixed');
    const wantsCorrected = runs.includes('corrected');

    const keep: tf.Tensor[] = [];
    const hold = <T extends tf.Tensor>(t: T): T => {
      keep.push(t);
      return t;
    };
    try {
      const targetRgb = adapt ? hold(stack(batch.target, 'rgb', h, w)) : null;
      const rawSource = hold(stack(batch.source, 'rgb', h, w));
      const xs = targetRgb && this.config.sourceRecolour ? hold(recolourToTarget(rawSource, targetRgb)) : rawSource;
      const ys = hold(labelTensor(batch.source, h, w));
      const ds = withDepth ? hold(stack(batch.source, 'depth', h, w)) : null;

      let mixed: { x: tf.Tensor4D; y: tf.Tensor3D; d: tf.Tensor3D | null; m: tf.Tensor3D; weight: tf.Tensor3D; q: tf.Scalar; trusted: tf.Tensor3D | null } | null = null;
      // Human-corrected target pixels are supervised like source pixels (CORDA.md §6) on the whole target crop,
      // not only where ClassMix leaves the target visible: an extra student pass, on batches that hold any.
      let supervised: { x: tf.Tensor4D; labels: tf.Tensor3D } | null = null;
      const xt = targetRgb!;
      const corrected = (wantsMixed || wantsCorrected) && batch.target.some((c) => c.labels) ? hold(labelTensor(batch.target, h, w)) : null;
      if (wantsMixed) {
        const dt = withDepth ? hold(stack(batch.target, 'depth', h, w)) : null;
        const useInitialHead = iter < this.config.teacherInitialHeadFraction * this.config.iters;
        const { pseudo, q } = tf.tidy(() => {
          // Batch statistics without touching the teacher's running averages (they follow the student's by EMA).
          const out = this.teacher.forward(xt, { training: this.config.teacherBatchStats });
          const probs = tf.softmax(useInitialHead ? out.segInit : out.seg);
          const confidence = tf.max(probs, -1);
          return {
            pseudo: tf.cast(tf.argMax(probs, -1), 'int32') as tf.Tensor3D,
            q: tf.mean(tf.cast(tf.greaterEqual(confidence, this.config.confidenceThreshold), 'float32')) as tf.Scalar,
          };
        });
        hold(pseudo);
        hold(q);
        const masks = new Float32Array(batch.source.length * h * w);
        batch.source.forEach((c, i) => masks.set(classMask(c.labels!, batch.mixClasses[i]!), i * h * w));
        const m = hold(tf.tensor3d(masks, [batch.source.length, h, w]));
        const x = hold(tf.tidy(() => augmentBatch(mix(m, xs, xt), batch.augment)));
        const { labels: y, weight, trusted } = mixedTargets(m, ys, pseudo, q, corrected);
        hold(y);
        hold(weight);
        if (trusted) hold(trusted);
        const d = withDepth ? hold(mix(m, ds!, dt!)) : null;
        mixed = { x, y, d, m, weight, q, trusted };
      }
      if (wantsCorrected) {
        // A replica whose slice holds no correction still runs the pass, with every pixel ignored (no gradient).
        const ignored = () => tf.fill([batch.target.length, h, w], IGNORE, 'int32') as tf.Tensor3D;
        const labels = tf.tidy(() => (corrected ? (tf.where(tf.less(corrected, NUM_CLASSES), corrected, ignored()) as tf.Tensor3D) : ignored()));
        supervised = { x: xt, labels: hold(labels) };
      }

      const bnUpdates: BatchNormUpdate[] = [];
      const parts: Record<string, tf.Scalar> = {};
      // BerHu on target / depthScale (validity read off the raw target, whose 1.0 codes "invalid").
      const scale = resolvedDepthScale(this.config);
      const depthLoss = (pred: tf.Tensor, target: tf.Tensor) => berHu(tf.div(pred, scale), tf.div(target, scale), validDepthMask(target));
      // Each pass (source, ClassMix, corrected target) is its own forward with its own batch statistics, so the
      // step's gradient is the sum of the passes' gradients: taking them one pass at a time frees each pass's
      // activations before the next runs, and the step's peak memory is one pass's instead of all of them.
      const passes: { name: PassName; run: () => tf.Scalar }[] = [];
      const add = (name: PassName, run: () => tf.Scalar) => passes.push({ name, run });
      if (runs.includes('source')) {
        add('source', () => {
          const outS = this.student.forward(xs, { training: true, bnUpdates });
          const targets = pixelTargets(ys);
          parts.sourceCe = tf.keep(tf.add(crossEntropy(outS.seg, targets), crossEntropy(outS.segInit, targets)) as tf.Scalar);
          if (!withDepth) return parts.sourceCe;
          parts.sourceDepth = tf.keep(tf.add(depthLoss(squeeze(outS.depthSrc), ds!), depthLoss(squeeze(outS.depthSrcInit), ds!)) as tf.Scalar);
          return tf.add(parts.sourceCe, tf.mul(parts.sourceDepth, this.config.sourceDepthWeight));
        });
      }
      if (mixed) {
        add('mixed', () => {
          const outM: NetworkOutputs = this.student.forward(mixed.x, { training: true, bnUpdates });
          let weight = mixed.weight;
          if (withDepth) {
            const slip = this.config.referenceWeightSlip ? 'reference-slip' : 'per-image';
            const wd = detached((src, tgt) => depthDiscrepancyWeight(src as tf.Tensor3D, tgt as tf.Tensor3D, mixed.d!, slip), squeeze(outM.depthSrc), squeeze(outM.depthTgt));
            const depthWeighted = tf.mul(weight, wd) as tf.Tensor3D;
            weight = mixed.trusted ? (tf.add(tf.mul(depthWeighted, tf.sub(1, mixed.trusted)), mixed.trusted) as tf.Tensor3D) : depthWeighted;
          }
          const targets = pixelTargets(mixed.y);
          parts.mixedCe = tf.keep(tf.add(weightedCrossEntropy(outM.seg, targets, weight), weightedCrossEntropy(outM.segInit, targets, weight)) as tf.Scalar);
          if (!withDepth) return parts.mixedCe;
          const perPixel = (src: tf.Tensor4D | null, tgt: tf.Tensor4D | null) => mix(mixed.m, squeeze(src), squeeze(tgt));
          parts.mixedDepth = tf.keep(
            tf.add(depthLoss(perPixel(outM.depthSrc, outM.depthTgt), mixed.d!), depthLoss(perPixel(outM.depthSrcInit, outM.depthTgtInit), mixed.d!)) as tf.Scalar,
          );
          return tf.add(parts.mixedCe, tf.mul(parts.mixedDepth, this.config.mixedDepthWeight));
        });
      }
      if (supervised) {
        add('corrected', () => {
          const outT = this.student.forward(supervised.x, { training: true, bnUpdates });
          const share = this.config.correctedMinShare;
          const targets = pixelTargets(supervised.labels);
          parts.correctedCe = tf.keep(tf.add(crossEntropy(outT.seg, targets, share), crossEntropy(outT.segInit, targets, share)) as tf.Scalar);
          return parts.correctedCe;
        });
      }
      const keepStats = () => {
        for (const u of bnUpdates) {
          tf.keep(u.batchMean);
          tf.keep(u.batchVariance);
        }
      };
      const varList = this.student.params.trainable();
      const gradients = this.passByPass ? passByPassGradients : jointGradients;
      // Which of bnUpdates each pass pushed, when the passes are kept apart.
      const bnRanges: [number, number][] = [];
      const each = separately
        ? eachPassGradients(
            passes.map((p) => () => {
              const from = bnUpdates.length;
              const loss = p.run();
              bnRanges.push([from, bnUpdates.length]);
              return loss;
            }),
            varList,
            keepStats,
          )
        : [gradients(passes.map((p) => p.run), varList, keepStats)];

      const byName = this.varNames();
      const rename = (grads: Record<string, tf.Tensor>) => Object.fromEntries(Object.entries(grads).map(([varName, grad]) => [byName.get(varName)!, grad]));
      const stats = (updates: BatchNormUpdate[]) => updates.map((u) => ({ name: byName.get(u.mean.name)!, mean: u.batchMean, variance: u.batchVariance }));
      const read = async (t: tf.Tensor | undefined) => (t ? (await t.data())[0]! : 0);
      const values = each.map((r) => r.value);
      const passValues = await Promise.all(values.map(read));
      const total = tf.tidy(() => values.slice(1).reduce<tf.Scalar>((sum, v) => tf.add(sum, v), values[0] ?? tf.scalar(0)));
      const losses: StepLosses = {
        total: await read(total),
        sourceCe: await read(parts.sourceCe),
        sourceDepth: await read(parts.sourceDepth),
        mixedCe: await read(parts.mixedCe),
        mixedDepth: await read(parts.mixedDepth),
        correctedCe: await read(parts.correctedCe),
        confidentShare: await read(mixed?.q),
      };
      tf.dispose([total, ...values, ...Object.values(parts)]);
      if (!separately) return { merged: { grads: rename(each[0]!.grads), bnStats: stats(bnUpdates) }, losses };
      const separate = each.map((r, k) => ({ pass: passes[k]!.name, value: passValues[k]!, grads: rename(r.grads), bnStats: stats(bnUpdates.slice(...bnRanges[k]!)) }));
      return { separate, losses };
    } finally {
      tf.dispose(keep);
    }
  }

  /**
   * Applies gradients (SGD), the batch-norm running statistics (each pass's batch statistics folded in, in
   * order) and the EMA teacher update. `bnStats` names the running-mean variable of each BN layer.
   */
  apply(grads: Record<string, tf.Tensor>, bnStats: StepGradients['bnStats'], iter: number): void {
    this.sgd.step(this.student.params, grads, iter);
    const vars = this.student.params.vars;
    tf.tidy(() => {
      for (const stat of bnStats) {
        const mean = vars.get(stat.name)!;
        const variance = vars.get(stat.name.replace(/\.mean$/, '.var'))!;
        mean.assign(blend(mean, stat.mean, 1 - BN_MOMENTUM, BN_MOMENTUM));
        variance.assign(blend(variance, stat.variance, 1 - BN_MOMENTUM, BN_MOMENTUM));
      }
    });
    if (METHOD_TRAITS[this.config.method].target) updateEma(this.teacher.params, this.student.params, iter, this.config.emaDecay);
  }

  /** Student, teacher and momentum buffers by stable name, for a checkpoint. */
  async snapshot(): Promise<TensorEntry[]> {
    const momentum: TensorEntry[] = [];
    for (const [name, v] of this.sgd.state()) momentum.push({ name: `momentum/${name}`, shape: v.shape, data: (await v.data()) as Float32Array });
    return [...(await this.student.params.toEntries('student/')), ...(await this.teacher.params.toEntries('teacher/')), ...momentum];
  }

  /** Restores what snapshot() saved; `studentOnly` starts a new round from another round's weights. */
  /**
   * Restores a checkpoint. A resume (`studentOnly` false) must fit exactly. A start from another round's
   * student (`studentOnly`) takes every parameter it has with the same shape and keeps the seed's initial
   * values for the rest (e.g. the depth branch when the parent was a source-only or DACS round).
   */
  restore(tensors: Map<string, TensorEntry>, studentOnly = false): void {
    const vars = [...this.student.params.vars];
    const wrongShape = vars.filter(([name, v]) => tensors.has(`student/${name}`) && tensors.get(`student/${name}`)!.shape.join() !== v.shape.join());
    const missing = vars.filter(([name]) => !tensors.has(`student/${name}`));
    if (wrongShape.length > 0 || (!studentOnly && missing.length > 0) || missing.length === vars.length) {
      const example = (wrongShape[0] ?? missing[0])![0];
      throw new UserError(
        `These weights do not fit the ${this.config.preset} network of this version (${wrongShape.length + missing.length} parameters missing or shaped differently, e.g. ${example}); start a new round instead.`,
      );
    }
    this.student.params.assignFrom(tensors, 'student/');
    if (studentOnly) {
      // The teacher starts as a copy of the student it will follow.
      this.teacher.params.assignFrom(tensors, 'student/');
      return;
    }
    this.teacher.params.assignFrom(tensors, 'teacher/');
    const momentum = new Map<string, tf.Variable>();
    for (const [key, t] of tensors) {
      if (key.startsWith('momentum/')) momentum.set(key.slice('momentum/'.length), tf.variable(tf.tensor(t.data, t.shape), false));
    }
    this.sgd.load(momentum);
  }

  dispose(): void {
    this.student.dispose();
    this.teacher.dispose();
    this.sgd.dispose();
  }
}
