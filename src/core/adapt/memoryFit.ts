// Whether a training step fits into the wasm backend's heap (wasm32: at most 4 GiB, and a request beyond it ends
// the process with a trap, not an error). The estimate comes from the network itself: one student pass (forward in
// training mode and its gradients, as the trainer runs each pass) is measured with tf.profile at a small crop, and
// its per-pixel part is scaled to the round's crop and batch. Nothing here knows a preset's layers, so a preset
// whose network changes is measured as it is.
import { UserError } from '../../shared/api';
import type { BackendName } from '../model/backend';
import { PRESETS, type CordaNetwork } from '../model/network';
import * as tf from '../model/tf';
import type { RoundConfig } from './config';
import { networkFor } from './networkFor';

/**
 * What tensors may take at the step's peak on wasm: its 4 GiB heap less room for fragmentation and scratch
 * (measured: `small` at 544x288, batch 2, peaked at 3.64 GiB of tensors and trained).
 */
export const WASM_STEP_BUDGET_BYTES = 3.6 * 2 ** 30;

/**
 * The step holds besides one pass: the teacher's and the student's weights, the gradients and the momentum
 * (about four copies of the weights), and per pixel of the crops the data, augmentation, ClassMix, pseudo-labels
 * and the losses on 19-class logits at crop size: STEP_BYTES_PER_PIXEL, the same for every network. Both were
 * read off tf.profile peaks of CorDA steps at batch 2 (bench-style random crops, 512x256): the step took
 * 1480–1970 bytes per pixel more than the measured pass for `tiny`, `small` and `paper`. PIXEL_MARGIN keeps the
 * estimate above the peaks measured: 4 % (`paper`, 512x256) to 29 % (`tiny`) above.
 */
const WEIGHT_COPIES = 4;
const STEP_BYTES_PER_PIXEL = 2000;
const PIXEL_MARGIN = 1.1;

export interface StepMemory {
  /** Bytes of all weights of one network (trainable and batch-norm statistics). */
  weightBytes: number;
  /** Bytes one pass takes at its peak per input pixel (crop pixels x batch). */
  passBytesPerPixel: number;
}

const measured = new Map<string, StepMemory>();

/** Peak bytes of one training pass of `net` (forward with batch statistics, then the gradients of all its outputs). */
async function passPeakBytes(net: CordaNetwork, height: number, width: number): Promise<number> {
  const input = tf.zeros([1, height, width, 3]) as tf.Tensor4D;
  try {
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = net.forward(input, { training: true });
        const means = Object.values(out).filter((t): t is tf.Tensor4D => t !== null).map((t) => tf.mean(t));
        return tf.addN(means) as tf.Scalar;
      }, net.params.trainable());
      tf.dispose([value, ...Object.values(grads)]);
    });
    return profile.peakBytes;
  } finally {
    input.dispose();
  }
}

/**
 * The step's memory model for a preset and method, measured once per process on the active backend: one pass at
 * two small crops (the difference is the per-pixel part, which is what grows with the crop and the batch).
 */
export async function measureStepMemory(config: Pick<RoundConfig, 'preset' | 'method'>): Promise<StepMemory> {
  const key = `${config.preset}/${config.method}/${JSON.stringify(PRESETS[config.preset])}`;
  const known = measured.get(key);
  if (known) return known;
  const stride = PRESETS[config.preset].outputStride;
  const h = Math.max(4 * stride, 32);
  const net = networkFor({ preset: config.preset, method: config.method, seed: 1, depthScale: 1 });
  let model: StepMemory;
  try {
    const weightBytes = [...net.params.vars.values()].reduce((sum, v) => sum + v.size * 4, 0);
    const small = await passPeakBytes(net, h, 2 * h);
    const large = await passPeakBytes(net, 2 * h, 4 * h);
    model = { weightBytes, passBytesPerPixel: (large - small) / (6 * h * h) };
  } finally {
    net.dispose();
  }
  measured.set(key, model);
  return model;
}

/** Estimated peak bytes of one training step of `config` (its crop and batch). */
export function estimateStepBytes(model: StepMemory, config: Pick<RoundConfig, 'crop' | 'batchSize'>): number {
  const pixels = config.crop.width * config.crop.height * config.batchSize;
  return WEIGHT_COPIES * model.weightBytes + PIXEL_MARGIN * (model.passBytesPerPixel + STEP_BYTES_PER_PIXEL) * pixels;
}

/** The largest batch of `config`'s crop whose step fits `budget` (0 when not even one crop fits). */
export function largestBatch(model: StepMemory, config: Pick<RoundConfig, 'crop'>, budget: number): number {
  let batch = 0;
  while (estimateStepBytes(model, { crop: config.crop, batchSize: batch + 1 }) <= budget) batch++;
  return batch;
}

/** "a crop of about WxH fits at batch B" (same aspect, multiples of 8), or that none does. */
function smallerCropAdvice(model: StepMemory, config: Pick<RoundConfig, 'crop' | 'batchSize'>): string {
  const pixels = (WASM_STEP_BUDGET_BYTES - WEIGHT_COPIES * model.weightBytes) / (PIXEL_MARGIN * (model.passBytesPerPixel + STEP_BYTES_PER_PIXEL) * config.batchSize);
  const scale = Math.sqrt(Math.max(0, pixels) / (config.crop.width * config.crop.height));
  const side = (n: number) => Math.floor((n * scale) / 8) * 8;
  if (side(config.crop.width) < 8 || side(config.crop.height) < 8) return 'not even a small crop fits';
  return `a crop of about ${side(config.crop.width)}x${side(config.crop.height)} fits`;
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses, before anything is written, a step that would not fit the wasm heap, with one sentence that says what
 * fits. `replicas` data-parallel threads each hold their own heap and a slice of the batch. Other backends are not
 * limited by the wasm heap and pass unchecked.
 */
export async function checkStepFits(config: Pick<RoundConfig, 'preset' | 'method' | 'crop' | 'batchSize'>, backend: BackendName, replicas = 1): Promise<void> {
  if (backend !== 'wasm') return;
  const model = await measureStepMemory(config);
  const slice = { crop: config.crop, batchSize: Math.ceil(config.batchSize / replicas) };
  const need = estimateStepBytes(model, slice);
  if (need <= WASM_STEP_BUDGET_BYTES) return;
  const fits = largestBatch(model, config, WASM_STEP_BUDGET_BYTES) * replicas;
  const { width, height } = config.crop;
  const advice = fits > 0 ? `batch ${fits} fits at this crop` : smallerCropAdvice(model, slice);
  const where = replicas > 1 ? ` per thread (${slice.batchSize} of the batch in each of ${replicas})` : '';
  throw new UserError(
    `A ${config.preset} step at ${width}x${height}, batch ${config.batchSize}, needs about ${gib(need)}${where}, more than the wasm backend's ${gib(WASM_STEP_BUDGET_BYTES)}: ${advice} (or train on a GPU backend).`,
  );
}
