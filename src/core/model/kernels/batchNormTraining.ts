// Training-mode batch norm as one forward kernel and one backward kernel (NHWC, statistics over N, H, W),
// optionally followed by relu or relu6. tfjs expresses it as moments + batchNorm (+ relu), whose autodiff
// expands into ~30 small kernels per layer (Tile, Mul, Sum, Sub, RealDiv, ...); these take two passes over the
// activations each way. Statistics are tf.moments' (the mean and the biased variance), so the running-statistics
// update that consumes them is unchanged; sums are accumulated in float64 and the output is rounded as PyTorch's
// CPU batch norm rounds it (see slopes).
import * as tf from '../tf';
import type { GradConfig, KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '../tf';
import { storage, type Storage } from './util';
import { simdKernels } from './simd';

export const BatchNormTraining = 'CordaBatchNormTraining';
export const BatchNormTrainingGrad = 'CordaBatchNormTrainingGrad';

export type BatchNormActivation = 'linear' | 'relu' | 'relu6';

interface Attrs {
  epsilon: number;
  activation: BatchNormActivation;
}

/**
 * The activation as a clamp to [lo, hi], and its gradient's gate lo < z <= hi (relu6's upper bound is inclusive,
 * as in tfjs's Relu6 gradient).
 */
function bounds(activation: BatchNormActivation): { lo: number; hi: number } {
  if (activation === 'relu') return { lo: 0, hi: Infinity };
  if (activation === 'relu6') return { lo: 0, hi: 6 };
  return { lo: -Infinity, hi: Infinity };
}

/**
 * Per channel: rstd = 1 / sqrt(var + eps), and the float32 slope and intercept of y = x · alpha + beta, rounded as
 * PyTorch's CPU batch norm rounds them (alpha = invstd · scale, beta = offset − mean · alpha, then x · alpha + beta
 * in float32), so the outputs near an activation's kink fall on the same side as in the PyTorch twin. Both passes
 * derive them from the float32 variance, so the backward pass sees the forward pass's values exactly.
 */
function slopes(scale: Float32Array, offset: Float32Array, mean: Float32Array, variance: Float32Array, epsilon: number) {
  const c = scale.length;
  const rstd = new Float64Array(c);
  const alpha = new Float32Array(c);
  const beta = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    rstd[k] = 1 / Math.sqrt(variance[k]! + epsilon);
    alpha[k] = Math.fround(rstd[k]!) * scale[k]!;
    beta[k] = offset[k]! - Math.fround(mean[k]! * alpha[k]!);
  }
  return { rstd, alpha, beta };
}

/** Channel k's mean and biased variance from its float64 sum and sum of squares over n values. */
function setMoments(mean: Float32Array, variance: Float32Array, k: number, sum: number, sumSq: number, n: number): void {
  const m = sum / n;
  mean[k] = m;
  variance[k] = Math.max(0, sumSq / n - m * m);
}

/** y = act((x - mean) * scale / sqrt(var + eps) + offset), with mean and (biased) variance of x per channel. */
export function batchNormTrainingForward(
  x: Float32Array, scale: Float32Array, offset: Float32Array, attrs: Attrs,
  y: Float32Array, mean: Float32Array, variance: Float32Array,
): void {
  const c = scale.length;
  const n = x.length / c;
  // One pass for both moments: in float64, E[x²] - E[x]² is as accurate as float32 two-pass moments while
  // |mean| / std stays below ~10⁴. Every loop here runs channel by channel (stride c) with the channel's constants
  // and sums in locals: about twice as fast in V8 as channel-innermost loops over Float64Array accumulators, and the
  // same sums in the same order.
  const len = x.length;
  for (let k = 0; k < c; k++) {
    let sum = 0;
    let sumSq = 0;
    for (let i = k; i < len; i += c) {
      const v = x[i]!;
      sum += v;
      sumSq += v * v;
    }
    setMoments(mean, variance, k, sum, sumSq, n);
  }
  const { alpha, beta } = slopes(scale, offset, mean, variance, attrs.epsilon);
  const { lo, hi } = bounds(attrs.activation);
  for (let k = 0; k < c; k++) {
    const a = alpha[k]!;
    const b = beta[k]!;
    for (let i = k; i < len; i += c) y[i] = Math.min(hi, Math.max(lo, Math.fround(x[i]! * a) + b));
  }
}

/**
 * Gradients of batchNormTrainingForward's y (mean and variance held as functions of x): with g = dy where the
 * activation passes, x̂ = (x - mean) / sqrt(var + eps) and N pixels per channel,
 *   dOffset = Σ g,  dScale = Σ g x̂,  dx = scale / sqrt(var + eps) · (g - dOffset / N - x̂ · dScale / N).
 */
export function batchNormTrainingBackward(
  dy: Float32Array, x: Float32Array, scale: Float32Array, offset: Float32Array, mean: Float32Array, variance: Float32Array,
  attrs: Attrs, dx: Float32Array, dScale: Float32Array, dOffset: Float32Array,
): void {
  const c = scale.length;
  const n = x.length / c;
  const { rstd, alpha, beta } = slopes(scale, offset, mean, variance, attrs.epsilon);
  const { lo, hi } = bounds(attrs.activation);
  const gated = attrs.activation !== 'linear';
  const len = x.length;
  // Channel by channel, as in the forward pass.
  for (let k = 0; k < c; k++) {
    const a = alpha[k]!;
    const b = beta[k]!;
    const m = mean[k]!;
    let sumG = 0;
    let sumGx = 0;
    // First pass: g (kept in dx) and its sums. The gate is that of the float32 value the forward pass clamped,
    // recomputed the same way.
    for (let i = k; i < len; i += c) {
      let g = dy[i]!;
      if (gated) {
        const z = Math.fround(Math.fround(x[i]! * a) + b);
        if (!(z > lo && z <= hi)) g = 0;
      }
      dx[i] = g;
      sumG += g;
      sumGx += g * (x[i]! - m);
    }
    const r = rstd[k]!;
    const slope = scale[k]! * r;
    dOffset[k] = sumG;
    dScale[k] = sumGx * r;
    const meanG = sumG / n;
    const meanGxhat = (sumGx * r) / n;
    for (let i = k; i < len; i += c) {
      const xhat = (x[i]! - m) * r;
      dx[i] = slope * (dx[i]! - meanG - xhat * meanGxhat);
    }
  }
}

function checkFloat(kernel: string, inputs: Record<string, TensorInfo>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: ${name} must be float32, got ${t.dtype}`);
  }
}

/** A float64 view of a scratch output's data (storage() allocates float32; the wasm heap's allocations are 8-aligned). */
function float64View(s: Storage, info: TensorInfo, length: number): Float64Array | null {
  const f32 = s.view(info);
  return f32.byteOffset % 8 === 0 ? new Float64Array(f32.buffer, f32.byteOffset, length) : null;
}

/**
 * The forward pass with the wasm SIMD kernels (simd/kernels.wat): the sums and the normalisation there, the
 * statistics and slopes here as in batchNormTrainingForward, so the bits are the same. false where they cannot run.
 */
function forwardSimd(backend: KernelBackend, s: Storage, x: TensorInfo, scale: TensorInfo, offset: TensorInfo, attrs: Attrs, out: TensorInfo[]): boolean {
  const c = scale.shape[0]!;
  const simd = simdKernels(backend);
  if (!simd || c % 4 !== 0) return false;
  const [y, meanInfo, varianceInfo] = out as [TensorInfo, TensorInfo, TensorInfo];
  const scratch = s.alloc([4 * c]);
  try {
    const sums = float64View(s, scratch, 2 * c);
    if (!sums) return false;
    const pixels = x.shape.reduce((a, b) => a * b, 1) / c;
    simd.bnSums(simd.offset(x), pixels, c, simd.offset(scratch));
    const mean = s.view(meanInfo);
    const variance = s.view(varianceInfo);
    for (let k = 0; k < c; k++) setMoments(mean, variance, k, sums[k]!, sums[c + k]!, pixels);
    const { alpha, beta } = slopes(s.view(scale), s.view(offset), mean, variance, attrs.epsilon);
    const ab = s.view(scratch);
    ab.set(alpha, 0);
    ab.set(beta, c);
    const { lo, hi } = bounds(attrs.activation);
    simd.bnNormalize(simd.offset(x), simd.offset(y), simd.offset(scratch), pixels, c, lo, hi);
    return true;
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

/** The backward pass with the wasm SIMD kernels; batchNormTrainingBackward is its JavaScript twin, to the bit. */
function backwardSimd(backend: KernelBackend, s: Storage, inputs: Record<'dy' | 'x' | 'scale' | 'offset' | 'mean' | 'variance', TensorInfo>, attrs: Attrs, out: TensorInfo[]): boolean {
  const c = inputs.scale.shape[0]!;
  const simd = simdKernels(backend);
  if (!simd || c % 4 !== 0) return false;
  const [dx, dScaleInfo, dOffsetInfo] = out as [TensorInfo, TensorInfo, TensorInfo];
  const ab = s.alloc([2 * c]);
  const sumsInfo = s.alloc([4 * c]);
  const stInfo = s.alloc([10 * c]);
  try {
    const pixels = inputs.x.shape.reduce((a, b) => a * b, 1) / c;
    const scale = s.view(inputs.scale);
    const mean = s.view(inputs.mean);
    const { rstd, alpha, beta } = slopes(scale, s.view(inputs.offset), mean, s.view(inputs.variance), attrs.epsilon);
    const abView = s.view(ab);
    abView.set(alpha, 0);
    abView.set(beta, c);
    const { lo, hi } = bounds(attrs.activation);
    const o = (t: TensorInfo) => simd.offset(t);
    simd.bnGradSums(o(inputs.dy), o(inputs.x), o(dx), o(ab), o(inputs.mean), pixels, c, lo, hi, attrs.activation !== 'linear' ? 1 : 0, o(sumsInfo));
    const sums = float64View(s, sumsInfo, 2 * c);
    const st = float64View(s, stInfo, 5 * c);
    if (!sums || !st) throw new Error('BatchNormTrainingGrad: a scratch array is not 8-byte aligned');
    const dScale = s.view(dScaleInfo);
    const dOffset = s.view(dOffsetInfo);
    for (let k = 0; k < c; k++) {
      const sumG = sums[k]!;
      const sumGx = sums[c + k]!;
      const r = rstd[k]!;
      dOffset[k] = sumG;
      dScale[k] = sumGx * r;
      st[k] = mean[k]!;
      st[c + k] = r;
      st[2 * c + k] = scale[k]! * r;
      st[3 * c + k] = sumG / pixels;
      st[4 * c + k] = (sumGx * r) / pixels;
    }
    simd.bnGradApply(o(inputs.x), o(dx), o(stInfo), pixels, c);
    return true;
  } finally {
    for (const info of [ab, sumsInfo, stInfo]) backend.disposeData(info.dataId);
  }
}

const forwardFunc = (({ inputs, backend, attrs }) => {
  const { x, scale, offset } = inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  checkFloat(BatchNormTraining, { x, scale, offset });
  const c = x.shape[x.shape.length - 1]!;
  const s = storage(backend as KernelBackend);
  const y = s.alloc([...x.shape]);
  const mean = s.alloc([c]);
  const variance = s.alloc([c]);
  if (forwardSimd(backend as KernelBackend, s, x, scale, offset, attrs as unknown as Attrs, [y, mean, variance])) return [y, mean, variance];
  // Views after every allocation: a wasm heap growth detaches older ones.
  batchNormTrainingForward(s.view(x), s.view(scale), s.view(offset), attrs as unknown as Attrs, s.view(y), s.view(mean), s.view(variance));
  return [y, mean, variance];
}) as KernelFunc;

const backwardFunc = (({ inputs, backend, attrs }) => {
  const { dy, x, scale, offset, mean, variance } = inputs as Record<'dy' | 'x' | 'scale' | 'offset' | 'mean' | 'variance', TensorInfo>;
  checkFloat(BatchNormTrainingGrad, { dy, x, scale, offset, mean, variance });
  const s = storage(backend as KernelBackend);
  const dx = s.alloc([...x.shape]);
  const dScale = s.alloc([...scale.shape]);
  const dOffset = s.alloc([...offset.shape]);
  const named = { dy, x, scale, offset, mean, variance };
  if (backwardSimd(backend as KernelBackend, s, named, attrs as unknown as Attrs, [dx, dScale, dOffset])) return [dx, dScale, dOffset];
  batchNormTrainingBackward(s.view(dy), s.view(x), s.view(scale), s.view(offset), s.view(mean), s.view(variance),
    attrs as unknown as Attrs, s.view(dx), s.view(dScale), s.view(dOffset));
  return [dx, dScale, dOffset];
}) as KernelFunc;

export function batchNormTrainingConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: BatchNormTraining, backendName, kernelFunc: forwardFunc },
    { kernelName: BatchNormTrainingGrad, backendName, kernelFunc: backwardFunc },
  ];
}

export const batchNormTrainingGradConfig: GradConfig = {
  kernelName: BatchNormTraining,
  inputsToSave: ['x', 'scale', 'offset'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dyOut, dMean, dVariance] = dys as (tf.Tensor | null)[];
    const [x, scale, offset, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    // Computed at once (not in the per-input closures): one kernel gives all three.
    const dy = dyOut ?? tf.zerosLike(x);
    const [dxOfY, dScale, dOffset] = tf.engine().runKernel(BatchNormTrainingGrad, { dy, x, scale, offset, mean, variance }, attrs as NamedAttrMap) as tf.Tensor[];
    let dx = dxOfY!;
    // Where the statistics themselves feed the loss: d mean / dx = 1/N, d var / dx = 2 (x - mean) / N.
    const n = x.size / mean.size;
    if (dMean) dx = tf.add(dx, tf.div(dMean, n));
    if (dVariance) dx = tf.add(dx, tf.mul(tf.mul(dVariance, 2 / n), tf.sub(x, mean)));
    return { x: () => dx, scale: () => dScale!, offset: () => dOffset! };
  },
};

/**
 * Training batch norm of NHWC x with the batch's statistics: y = act(batchNorm(x, mean, variance, offset, scale)),
 * plus the mean and biased variance (as tf.moments over N, H, W). One kernel each way where the backend has
 * ours (wasm, cpu), else the tfjs composite.
 */
export function trainingBatchNorm(
  x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D, epsilon: number, activation: BatchNormActivation = 'linear',
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (tf.getKernel(BatchNormTraining, tf.getBackend()) && tf.getGradient(BatchNormTraining)) {
    const attrs: Attrs = { epsilon, activation };
    const [y, mean, variance] = tf.engine().runKernel(BatchNormTraining, { x, scale, offset }, attrs as unknown as NamedAttrMap) as tf.Tensor[];
    return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const z = tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, offset, scale, epsilon);
  const y = activation === 'relu' ? tf.relu(z) : activation === 'relu6' ? tf.relu6(z) : z;
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
