// Softmax cross-entropy's two per-pixel kernels, taking each pixel's class index instead of a one-hot row:
//   CordaPickClass:               probs[i, class[i]], 0 where the class is outside [0, C) (an ignored pixel)
//   CordaSoftmaxCrossEntropyGrad: (probs[i, c] · valid[i] − [c = class[i]]) · dy[i]
// They replace the composites sum(probs · onehot) and (probs · valid − onehot) · dy over [B, H, W, C], which build and
// read a one-hot tensor and broadcast the per-pixel masks over the classes (about 5 ms each at 256x128 on wasm).
// Every float32 operation is rounded as the composites round it (Math.fround after each multiply and subtraction;
// a sum of one product and exact zeros is that product), so both equal their composites to the bit. On wasm the
// gradient runs as a SIMD kernel (simd/kernels.wat: 3.5 → 0.5 ms at [2,128,256,19]) with the same float32 operations.
import * as tf from '../tf';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '../tf';
import { storage } from './util';
import { simdKernels } from './simd';

export const SoftmaxCrossEntropyGrad = 'CordaSoftmaxCrossEntropyGrad';
export const PickClass = 'CordaPickClass';

const f = Math.fround;

/** out[i, c] = (probs[i, c] · valid[i] − [c = classes[i]]) · dy[i] in float32, for C classes per pixel i. */
export function softmaxCrossEntropyGradValues(probs: Float32Array, classes: Int32Array, valid: Float32Array, dy: Float32Array, out: Float32Array): void {
  const count = (probs.length / valid.length) | 0;
  const pixels = valid.length;
  for (let i = 0, j = 0; i < pixels; i++, j += count) {
    const v = valid[i]!;
    const d = dy[i]!;
    for (let c = 0; c < count; c++) out[j + c] = f(f(probs[j + c]! * v) * d);
    const k = classes[i]!;
    if (k >= 0 && k < count) out[j + k] = f(f(f(probs[j + k]! * v) - 1) * d);
  }
}

/** out[i] = probs[i, classes[i]], or 0 where classes[i] is outside [0, C). */
export function pickClassValues(probs: Float32Array, classes: Int32Array, out: Float32Array): void {
  const count = (probs.length / out.length) | 0;
  for (let i = 0; i < out.length; i++) {
    const k = classes[i]!;
    out[i] = k >= 0 && k < count ? probs[i * count + k]! : 0;
  }
}

function check(kernel: string, probs: TensorInfo, classes: TensorInfo, perPixel: TensorInfo[]): void {
  const pixels = probs.shape.slice(0, -1).join();
  const fits = probs.dtype === 'float32' && classes.dtype === 'int32' && perPixel.every((t) => t.dtype === 'float32');
  if (!fits || classes.shape.join() !== pixels || perPixel.some((t) => t.shape.join() !== pixels)) {
    throw new Error(`${kernel}: inputs [${probs.shape}] ${probs.dtype}, [${classes.shape}] ${classes.dtype}${perPixel.map((t) => `, [${t.shape}] ${t.dtype}`).join('')} do not fit`);
  }
}

const gradKernel = (({ inputs, backend }) => {
  const { probs, classes, valid, dy } = inputs as Record<'probs' | 'classes' | 'valid' | 'dy', TensorInfo>;
  check(SoftmaxCrossEntropyGrad, probs, classes, [valid, dy]);
  const s = storage(backend as KernelBackend);
  const out = s.alloc([...probs.shape]);
  const simd = simdKernels(backend as KernelBackend);
  if (simd) {
    const count = probs.shape[probs.shape.length - 1]!;
    simd.crossEntropyGrad(simd.offset(probs), simd.offset(classes), simd.offset(valid), simd.offset(dy), simd.offset(out), valid.shape.reduce((a, b) => a * b, 1), count);
    return out;
  }
  // Views after the allocation: a wasm heap growth detaches older ones.
  softmaxCrossEntropyGradValues(s.view(probs), s.view(classes) as unknown as Int32Array, s.view(valid), s.view(dy), s.view(out));
  return out;
}) as KernelFunc;

const pickKernel = (({ inputs, backend }) => {
  const { probs, classes } = inputs as Record<'probs' | 'classes', TensorInfo>;
  check(PickClass, probs, classes, []);
  const s = storage(backend as KernelBackend);
  const out = s.alloc(probs.shape.slice(0, -1));
  pickClassValues(s.view(probs), s.view(classes) as unknown as Int32Array, s.view(out));
  return out;
}) as KernelFunc;

export function crossEntropyGradConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: SoftmaxCrossEntropyGrad, backendName, kernelFunc: gradKernel },
    { kernelName: PickClass, backendName, kernelFunc: pickKernel },
  ];
}

const ours = (kernel: string) => tf.getKernel(kernel, tf.getBackend()) !== undefined;
const oneHot = (classes: tf.Tensor3D, count: number) => tf.cast(tf.oneHot(classes, count), 'float32') as tf.Tensor4D;

/** (probs · valid − onehot(classes)) · dy, valid and dy [B, H, W] over probs [B, H, W, C]; one kernel where the backend has ours. */
export function softmaxCrossEntropyGrad(probs: tf.Tensor4D, classes: tf.Tensor3D, valid: tf.Tensor3D, dy: tf.Tensor3D): tf.Tensor4D {
  if (ours(SoftmaxCrossEntropyGrad)) return tf.engine().runKernel(SoftmaxCrossEntropyGrad, { probs, classes, valid, dy }) as tf.Tensor4D;
  return tf.mul(tf.sub(tf.mul(probs, tf.expandDims(valid, -1)), oneHot(classes, probs.shape[3])), tf.expandDims(dy, -1));
}

/** Each pixel's probability of its class (0 where the class index is outside [0, C)). */
export function pickClass(probs: tf.Tensor4D, classes: tf.Tensor3D): tf.Tensor3D {
  if (ours(PickClass)) return tf.engine().runKernel(PickClass, { probs, classes }) as tf.Tensor3D;
  return tf.sum(tf.mul(probs, oneHot(classes, probs.shape[3])), -1);
}
