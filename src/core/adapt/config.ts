// A round's configuration: defaults per preset and validation with one-sentence errors.
import { DEFAULT_ITERS, ROUND_DEFAULTS, UserError } from '../../shared/api';
import { PAPER_VARIANTS, type PaperVariant } from '../model/deeplabv2';
import { PRESETS, type Method, type PresetName } from '../model/network';

export interface RoundConfig {
  method: Method;
  preset: PresetName;
  /** `paper`: the reference network's variant, 'gta' (ASPP initial semantic head) or 'synthia' (1x1); others ignore it. */
  variant: PaperVariant;
  /**
   * `paper`: the backbone's batch norm uses batch statistics while training and updates its running ones, as the
   * reference code does (trainUDA_gta.py calls model.train(); deeplabv2_gta.py freezes only the affine), so it is
   * `paper`'s default; false: running statistics always (a checkpoint's statistics kept as they are).
   */
  backboneBatchStats: boolean;
  iters: number;
  batchSize: number;
  crop: { width: number; height: number };
  /** Working widths the images are resized to before cropping (CORDA: 1280 source, 1024 target at crop 512). */
  sourceWidth: number;
  targetWidth: number;
  seed: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  headLrMultiplier: number;
  checkpointEvery: number;
  confidenceThreshold: number;
  sourceDepthWeight: number;
  mixedDepthWeight: number;
  /** Share of iterations during which the teacher's initial head makes the pseudo-labels (GTA run). */
  teacherInitialHeadFraction: number;
  /** Share of a round's first iterations that train on the source alone (rounds from scratch; 0 from a parent). */
  sourceWarmup: number;
  /** The reference code's batch-mean slip in the depth weight (CORDA.md §4); off = per-image weights. */
  referenceWeightSlip: boolean;
  /** Data-parallel training threads; 0 = one per core (up to the batch size) on wasm/cpu, 1 on tfjs-node. */
  workers: number;
  /**
   * How two data-parallel threads share a step. 'pairs': each takes half of the image pairs through every pass (batch
   * norm over its half). 'passes': each takes whole passes of the whole batch (the source pass and the corrected-target
   * pass on one thread, the teacher and the ClassMix pass on the other; the same sums as one thread, to the bit), for
   * the steps that have more than one pass; the rest split by pairs.
   */
  parallelSplit: 'pairs' | 'passes';
  /** A tfjs LayersModel folder (e.g. converted Keras MobileNetV2) whose weights initialise the `small` encoder. */
  pretrained: string | null;
  /** A PyTorch checkpoint (torch.save) whose state dict initialises the student, matched through torchLayout. */
  init: string | null;
  /** Which network of a training checkpoint `init` takes: the student ('model') or the EMA teacher. */
  initFrom: 'model' | 'ema_model';
  /** Target pixels a person corrected are trusted labels (weight 1, no depth re-weighting). */
  useCorrections: boolean;
  /** Iterations between scorings of the target's val split for the learning curve; 0 = never. */
  evalEvery: number;
  /**
   * The teacher normalises each target batch with that batch's own statistics, as the reference code does (its EMA
   * model is never put in inference mode while training); false uses its running statistics.
   */
  teacherBatchStats: boolean;
  /** SGD with momentum (the reference, for pretrained backbones) or Adam (from scratch). */
  optimizer: 'sgd' | 'adam';
  /** The EMA teacher's decay a = min(1 − 1/(t + 1), emaDecay). */
  emaDecay: number;
  /**
   * Depth targets are divided by this for the depth losses, so that the depth heads regress values near 1 and the
   * BerHu terms stay on the cross-entropy's scale; the heads' outputs are multiplied back (target units). 0 at the
   * start of a round = the median valid source depth target, resolved once and stored with the round.
   */
  depthScale: number;
  /** Which parameters train with headLrMultiplier: only the last layers ('heads'), or as the reference's 10x group
   * ('reference': task branches, distillation and every head). */
  tenXGroup: 'heads' | 'reference';
  /**
   * Which parameters weight decay applies to: convolution weights only, or every parameter with a gradient (biases and
   * trainable batch-norm affines too), as the reference's torch.optim.SGD does (`paper`).
   */
  weightDecayScope: 'weights' | 'all';
  /** Random horizontal flips of the training crops (the reference has none). */
  flip: boolean;
  /** Hue jitter strength in the strong augmentation: a rotation of up to ±hue of the colour circle (reference 0.25). */
  hue: number;
  /**
   * While adapting, each source crop is recoloured to the per-channel mean and spread of the target crop it is
   * paired with (a global colour transfer), for the source loss and for ClassMix. Presets trained from scratch learn
   * colour first; this is meant to keep them from keying on the source's palette. An option, off by default
   * (measured in the README).
   */
  sourceRecolour: boolean;
  /**
   * The corrected-target pass averages its cross-entropy over the corrected pixels, but over no fewer than this
   * share of the crop's pixels (default 0.1): 0 = over the corrected pixels alone, so a crop holding a few hundred
   * corrected pixels weighs each of them dozens of times a source pixel.
   */
  correctedMinShare: number;
  /**
   * Iterations over which the learning rate rises linearly to its scheduled value at the start of a round: a round
   * continued from another starts with fresh momentum at the full rate where its parent ended near 0. 0 = none.
   */
  lrWarmup: number;
}

/** A tenth of the round, rounded up to a multiple of 10, at least 10: about ten points on the learning curve. */
export const defaultEvalEvery = (iters: number): number => Math.max(10, Math.ceil(iters / 100) * 10);

export function defaultConfig(method: Method, preset: PresetName, overrides: Partial<RoundConfig> = {}): RoundConfig {
  const p = PRESETS[preset];
  const scale = p.crop.width / 512;
  const fromScratch = preset !== 'paper';
  const config: RoundConfig = {
    method,
    preset,
    variant: 'gta',
    backboneBatchStats: preset === 'paper',
    iters: DEFAULT_ITERS[preset],
    batchSize: 2,
    crop: p.crop,
    sourceWidth: Math.round(1280 * scale),
    targetWidth: Math.round(1024 * scale),
    seed: ROUND_DEFAULTS.seed,
    // From scratch on the small presets a larger rate is needed than the paper's 2.5e-4 for a pretrained backbone.
    lr: preset === 'paper' ? 2.5e-4 : 0.01,
    momentum: 0.9,
    weightDecay: 5e-4,
    headLrMultiplier: 10,
    checkpointEvery: 50,
    confidenceThreshold: 0.968,
    sourceDepthWeight: 0.01,
    mixedDepthWeight: 0.001,
    teacherInitialHeadFraction: 0.1,
    // From scratch the teacher's first pseudo-labels are noise: the first fifth learns the source alone.
    sourceWarmup: fromScratch ? 0.2 : 0,
    referenceWeightSlip: false,
    workers: 0,
    parallelSplit: 'pairs',
    pretrained: null,
    init: null,
    initFrom: 'model',
    useCorrections: ROUND_DEFAULTS.useCorrections,
    evalEvery: 0, // follows the iterations (below) unless given
    teacherBatchStats: true,
    optimizer: 'sgd',
    // The reference's 0.999 averages a short run's teacher over every weight since the random start.
    emaDecay: fromScratch ? 0.99 : 0.999,
    depthScale: 0,
    // From scratch, 10x on the branches and distillation diverges within 30 iterations at lr 0.01 (tiny, measured).
    tenXGroup: preset === 'paper' ? 'reference' : 'heads',
    weightDecayScope: preset === 'paper' ? 'all' : 'weights',
    flip: false,
    hue: 0.25,
    // Off: +3.2 in the PyTorch probe from scratch, but no gain in the engine's benchmark from a warm-up (README).
    sourceRecolour: false,
    // Averaged over the corrected pixels alone, a few hundred of them in a crop outweighed the source crop and one
    // seed of the benchmark collapsed (README, corrections): a tenth of the crop at least.
    correctedMinShare: 0.1,
    lrWarmup: 0,
    ...overrides,
  };
  if (overrides.evalEvery === undefined) config.evalEvery = defaultEvalEvery(config.iters);
  validateConfig(config);
  return config;
}

export function validateConfig(c: RoundConfig): void {
  if (!Number.isInteger(c.iters) || c.iters < 1) throw new UserError(`The number of iterations must be a whole number of at least 1, got ${c.iters}.`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) throw new UserError(`The batch size must be at least 1, got ${c.batchSize}.`);
  if (c.crop.width % 8 || c.crop.height % 8) throw new UserError(`The crop ${c.crop.width}x${c.crop.height} must be a multiple of 8 on each side.`);
  if (!Number.isInteger(c.workers) || c.workers < 0) throw new UserError(`The number of training threads must be 0 (automatic) or more, got ${c.workers}.`);
  if (c.parallelSplit !== 'pairs' && c.parallelSplit !== 'passes') throw new UserError(`parallelSplit must be "pairs" or "passes", got ${String(c.parallelSplit)}.`);
  if (c.pretrained && c.preset !== 'small') throw new UserError(`Pretrained encoder weights load into the small preset only; the ${c.preset} preset trains from scratch.`);
  if (c.init && c.pretrained) throw new UserError('A round starts from one set of weights: pass either a checkpoint file (--init) or a pretrained encoder folder (--pretrained), not both.');
  if (c.initFrom !== 'model' && c.initFrom !== 'ema_model') throw new UserError(`The checkpoint's network must be "model" or "ema_model", got ${String(c.initFrom)}.`);
  if (typeof c.useCorrections !== 'boolean') throw new UserError(`useCorrections must be true or false, got ${String(c.useCorrections)}.`);
  if (!(c.emaDecay >= 0 && c.emaDecay < 1)) throw new UserError(`The teacher's EMA decay must be in [0, 1), got ${c.emaDecay}.`);
  if (!(c.depthScale >= 0) || !Number.isFinite(c.depthScale)) throw new UserError(`The depth scale must be 0 (automatic) or positive, got ${c.depthScale}.`);
  if (!(c.sourceWarmup >= 0 && c.sourceWarmup < 1)) throw new UserError(`The source-only warm-up must be a share of the iterations in [0, 1), got ${c.sourceWarmup}.`);
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adam') throw new UserError(`The optimizer must be "sgd" or "adam", got ${String(c.optimizer)}.`);
  if (!PAPER_VARIANTS.includes(c.variant)) throw new UserError(`The variant must be ${PAPER_VARIANTS.map((v) => `"${v}"`).join(' or ')}, got ${String(c.variant)}.`);
  if (typeof c.backboneBatchStats !== 'boolean') throw new UserError(`backboneBatchStats must be true or false, got ${String(c.backboneBatchStats)}.`);
  if (c.weightDecayScope !== 'weights' && c.weightDecayScope !== 'all') throw new UserError(`weightDecayScope must be "weights" or "all", got ${String(c.weightDecayScope)}.`);
  if (c.tenXGroup !== 'heads' && c.tenXGroup !== 'reference') throw new UserError(`tenXGroup must be "heads" or "reference", got ${String(c.tenXGroup)}.`);
  if (!(c.hue >= 0 && c.hue <= 0.5)) throw new UserError(`The hue jitter must be between 0 and 0.5 of the colour circle, got ${c.hue}.`);
  if (typeof c.sourceRecolour !== 'boolean') throw new UserError(`sourceRecolour must be true or false, got ${String(c.sourceRecolour)}.`);
  if (!Number.isInteger(c.evalEvery) || c.evalEvery < 0) throw new UserError(`The val scoring interval must be 0 (off) or a whole number of iterations, got ${c.evalEvery}.`);
  if (!(c.correctedMinShare >= 0 && c.correctedMinShare <= 1)) throw new UserError(`correctedMinShare must be a share of the crop's pixels in [0, 1], got ${c.correctedMinShare}.`);
  if (!Number.isInteger(c.lrWarmup) || c.lrWarmup < 0) throw new UserError(`The learning-rate warm-up must be 0 (none) or a whole number of iterations, got ${c.lrWarmup}.`);
  if (!(c.lr > 0)) throw new UserError(`The learning rate must be positive, got ${c.lr}.`);
}

