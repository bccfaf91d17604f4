// The gradient of softmax cross-entropy with respect to the logits, (p · valid − target) · dy per class, as one
// kernel. The tfjs composite broadcasts the per-pixel valid mask and dy over the classes: two broadcast multiplies
// and a subtraction over [B, H, W, 19] per loss term, about 5 ms each at 256x128 on wasm. Every float32 operation is
// rounded as the composite rounds it (Math.fround after each multiply and subtraction), so the result equals the
// composite's to the bit.
import * as tf from '../tf';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '../tf';
import { storage } from './util';

export const SoftmaxCrossEntropyGrad = 'CordaSoftmaxCrossEntropyGrad';

const f = Math.fround;

/** out[i, c] = (probs[i, c] · valid[i] − targets[i, c]) · dy[i] in float32, for C classes per pixel i. */
export function softmaxCrossEntropyGradValues(probs: Float32Array, targets: Float32Array, valid: Float32Array, dy: Float32Array, out: Float32Array): void {
  const classes = (probs.length / valid.length) | 0;
  const pixels = valid.length;
  let j = 0;
  for (let i = 0; i < pixels; i++) {
    const v = valid[i]!;
    const d = dy[i]!;
    const end = j + classes;
    for (; j < end; j++) out[j] = f(f(f(probs[j]! * v) - targets[j]!) * d);
  }
}

function check(inputs: Record<'probs' | 'targets' | 'valid' | 'dy', TensorInfo>): void {
  const { probs, targets, valid, dy } = inputs;
  for (const [name, t] of Object.entries(inputs)) {
    if (t.dtype !== 'float32') throw new Error(`${SoftmaxCrossEntropyGrad}: ${name} must be float32, got ${t.dtype}`);
  }
  const pixels = probs.shape.slice(0, -1).join();
  if (targets.shape.join() !== probs.shape.join() || valid.shape.join() !== pixels || dy.shape.join() !== pixels) {
    throw new Error(`${SoftmaxCrossEntropyGrad}: shapes [${probs.shape}], [${targets.shape}], [${valid.shape}], [${dy.shape}] do not fit`);
  }
}

const kernelFunc = (({ inputs, backend }) => {
  const named = inputs as Record<'probs' | 'targets' | 'valid' | 'dy', TensorInfo>;
  check(named);
  const s = storage(backend as KernelBackend);
  const out = s.alloc([...named.probs.shape]);
  // Views after the allocation: a wasm heap growth detaches older ones.
  softmaxCrossEntropyGradValues(s.view(named.probs), s.view(named.targets), s.view(named.valid), s.view(named.dy), s.view(out));
  return out;
}) as KernelFunc;

export function crossEntropyGradConfigs(backendName: string): KernelConfig[] {
  return [{ kernelName: SoftmaxCrossEntropyGrad, backendName, kernelFunc }];
}

/** (probs · valid − targets) · dy with valid and dy [B, H, W] over probs and targets [B, H, W, C]; one kernel where the backend has ours. */
export function softmaxCrossEntropyGrad(probs: tf.Tensor4D, targets: tf.Tensor4D, valid: tf.Tensor3D, dy: tf.Tensor3D): tf.Tensor4D {
  const fits = [probs, targets, valid, dy].every((t) => t.dtype === 'float32');
  if (fits && tf.getKernel(SoftmaxCrossEntropyGrad, tf.getBackend())) {
    return tf.engine().runKernel(SoftmaxCrossEntropyGrad, { probs, targets, valid, dy }) as tf.Tensor4D;
  }
  return tf.mul(tf.sub(tf.mul(probs, tf.expandDims(valid, -1)), targets), tf.expandDims(dy, -1));
}
