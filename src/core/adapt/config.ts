// A round's configuration: defaults per preset and validation with one-sentence errors.
import { UserError } from '../../shared/api';
import { PRESETS, type Method, type PresetName } from '../model/network';

export interface RoundConfig {
  method: Method;
  preset: PresetName;
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
  /** The reference code's batch-mean slip in the depth weight (CORDA.md §4); off = per-image weights. */
  referenceWeightSlip: boolean;
  /** Data-parallel training threads; 0 = one per core (up to the batch size) on wasm/cpu, 1 on tfjs-node. */
  workers: number;
  /** A tfjs LayersModel folder (e.g. converted Keras MobileNetV2) whose weights initialise the `small` encoder. */
  pretrained: string | null;
  /** Target pixels a person corrected are trusted labels (weight 1, no depth re-weighting). */
  useCorrections: boolean;
}

export function defaultConfig(method: Method, preset: PresetName, overrides: Partial<RoundConfig> = {}): RoundConfig {
  const p = PRESETS[preset];
  const scale = p.crop.width / 512;
  const config: RoundConfig = {
    method,
    preset,
    iters: preset === 'tiny' ? 300 : preset === 'small' ? 2000 : 250_000,
    batchSize: 2,
    crop: p.crop,
    sourceWidth: Math.round(1280 * scale),
    targetWidth: Math.round(1024 * scale),
    seed: 1,
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
    referenceWeightSlip: false,
    workers: 0,
    pretrained: null,
    useCorrections: true,
    ...overrides,
  };
  validateConfig(config);
  return config;
}

export function validateConfig(c: RoundConfig): void {
  if (!Number.isInteger(c.iters) || c.iters < 1) throw new UserError(`The number of iterations must be a whole number of at least 1, got ${c.iters}.`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1) throw new UserError(`The batch size must be at least 1, got ${c.batchSize}.`);
  if (c.crop.width % 8 || c.crop.height % 8) throw new UserError(`The crop ${c.crop.width}x${c.crop.height} must be a multiple of 8 on each side.`);
  if (!Number.isInteger(c.workers) || c.workers < 0) throw new UserError(`The number of training threads must be 0 (automatic) or more, got ${c.workers}.`);
  if (c.pretrained && c.preset !== 'small') throw new UserError(`Pretrained encoder weights load into the small preset only; the ${c.preset} preset trains from scratch.`);
  if (typeof c.useCorrections !== 'boolean') throw new UserError(`useCorrections must be true or false, got ${String(c.useCorrections)}.`);
  if (!(c.lr > 0)) throw new UserError(`The learning rate must be positive, got ${c.lr}.`);
}

