// Training-mode batch norm as one forward kernel and one backward kernel (NHWC, statistics over N, H, W),
// optionally followed by relu or relu6. tfjs expresses it as moments + batchNorm (+ relu), whose autodiff
// expands into ~30 small kernels per layer (Tile, Mul, Sum, Sub, RealDiv, ...); these take two passes over the
// activations each way. Statistics are tf.moments' (the mean and the biased variance), so the running-statistics
// update that consumes them is unchanged; sums are accumulated in float64 and the output is rounded as PyTorch's
// CPU batch norm rounds it (see slopes).
import * as tf from '../tf';
import type { GradConfig, KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '../tf';
import { storage } from './util';

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

/** y = act((x - mean) * scale / sqrt(var + eps) + offset), with mean and (biased) variance of x per channel. */
export function batchNormTrainingForward(
  x: Float32Array, scale: Float32Array, offset: Float32Array, attrs: Attrs,
  y: Float32Array, mean: Float32Array, variance: Float32Array,
): void {
  const c = scale.length;
  const n = x.length / c;
  // One pass for both moments: in float64, E[x²] - E[x]² is as accurate as float32 two-pass moments while
  // |mean| / std stays below ~10⁴.
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = x[i + k]!;
      sum[k]! += v;
      sumSq[k]! += v * v;
    }
  }
  for (let k = 0; k < c; k++) {
    const m = sum[k]! / n;
    mean[k] = m;
    variance[k] = Math.max(0, sumSq[k]! / n - m * m);
  }
  const { alpha, beta } = slopes(scale, offset, mean, variance, attrs.epsilon);
  const { lo, hi } = bounds(attrs.activation);
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) y[i + k] = Math.min(hi, Math.max(lo, Math.fround(x[i + k]! * alpha[k]!) + beta[k]!));
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
  const sumG = new Float64Array(c);
  const sumGx = new Float64Array(c);
  // First pass: g (kept in dx) and its sums.
  if (attrs.activation === 'linear') {
    for (let i = 0; i < x.length; i += c) {
      for (let k = 0; k < c; k++) {
        const g = dy[i + k]!;
        dx[i + k] = g;
        sumG[k]! += g;
        sumGx[k]! += g * (x[i + k]! - mean[k]!);
      }
    }
  } else {
    const { lo, hi } = bounds(attrs.activation);
    for (let i = 0; i < x.length; i += c) {
      for (let k = 0; k < c; k++) {
        // The gate of the float32 value the forward pass clamped, recomputed the same way.
        const z = Math.fround(Math.fround(x[i + k]! * alpha[k]!) + beta[k]!);
        const g = z > lo && z <= hi ? dy[i + k]! : 0;
        dx[i + k] = g;
        sumG[k]! += g;
        sumGx[k]! += g * (x[i + k]! - mean[k]!);
      }
    }
  }
  const meanG = new Float64Array(c);
  const meanGxhat = new Float64Array(c);
  const slope = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    slope[k] = scale[k]! * rstd[k]!;
    dOffset[k] = sumG[k]!;
    dScale[k] = sumGx[k]! * rstd[k]!;
    meanG[k] = sumG[k]! / n;
    meanGxhat[k] = (sumGx[k]! * rstd[k]!) / n;
  }
  for (let i = 0; i < x.length; i += c) {
    for (let k = 0; k < c; k++) {
      const xhat = (x[i + k]! - mean[k]!) * rstd[k]!;
      dx[i + k] = slope[k]! * (dx[i + k]! - meanG[k]! - xhat * meanGxhat[k]!);
    }
  }
}

function checkFloat(kernel: string, inputs: Record<string, TensorInfo>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: ${name} must be float32, got ${t.dtype}`);
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
