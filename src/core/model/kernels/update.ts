// The training step's parameter updates as one kernel per tensor instead of four to six: the SGD momentum step
// (w, v) -> (w - lr·v', v' = m·v + g + wd·w) and the blend a·x + b·y of the batch-norm running statistics and the
// EMA teacher. Each float32 operation is rounded as the tfjs composite rounds it (Math.fround after every multiply
// and add, with the scalars as float32), so the results equal the composite's to the bit and the PyTorch twin's
// tolerances are unchanged. One step of `tiny` updates about 150 tensors three ways: ~750 kernels became ~190.
import * as tf from '../tf';
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '../tf';
import { storage } from './util';

export const SgdMomentumStep = 'CordaSgdMomentumStep';
export const Blend = 'CordaBlend';

interface SgdAttrs {
  lr: number;
  momentum: number;
  /** 0 where the tensor takes no weight decay. */
  weightDecay: number;
}

interface BlendAttrs {
  a: number;
  b: number;
}

const f = Math.fround;

/** v' = m·v + (g + wd·w), w' = w − lr·v', in float32 as tf.add/tf.mul/tf.sub compute them. */
export function sgdMomentumValues(
  w: Float32Array, g: Float32Array, v: Float32Array, attrs: SgdAttrs, wOut: Float32Array, vOut: Float32Array,
): void {
  const lr = f(attrs.lr);
  const m = f(attrs.momentum);
  const wd = f(attrs.weightDecay);
  for (let i = 0; i < w.length; i++) {
    const decayed = wd === 0 ? g[i]! : f(g[i]! + f(w[i]! * wd));
    const velocity = f(f(v[i]! * m) + decayed);
    vOut[i] = velocity;
    wOut[i] = f(w[i]! - f(velocity * lr));
  }
}

/** out = a·x + b·y, in float32 as tf.add(tf.mul(x, a), tf.mul(y, b)) computes it. */
export function blendValues(x: Float32Array, y: Float32Array, attrs: BlendAttrs, out: Float32Array): void {
  const a = f(attrs.a);
  const b = f(attrs.b);
  for (let i = 0; i < x.length; i++) out[i] = f(f(x[i]! * a) + f(y[i]! * b));
}

function checkSame(kernel: string, inputs: Record<string, TensorInfo>): void {
  const [first, ...rest] = Object.values(inputs);
  for (const t of [first!, ...rest]) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: every input must be float32, got ${t.dtype}`);
    if (t.shape.join() !== first!.shape.join()) throw new Error(`${kernel}: inputs of shapes ${first!.shape} and ${t.shape}`);
  }
}

const sgdFunc = (({ inputs, backend, attrs }) => {
  const { w, g, v } = inputs as Record<'w' | 'g' | 'v', TensorInfo>;
  checkSame(SgdMomentumStep, { w, g, v });
  const s = storage(backend as KernelBackend);
  const wOut = s.alloc([...w.shape]);
  const vOut = s.alloc([...w.shape]);
  // Views after every allocation: a wasm heap growth detaches older ones.
  sgdMomentumValues(s.view(w), s.view(g), s.view(v), attrs as unknown as SgdAttrs, s.view(wOut), s.view(vOut));
  return [wOut, vOut];
}) as KernelFunc;

const blendFunc = (({ inputs, backend, attrs }) => {
  const { x, y } = inputs as Record<'x' | 'y', TensorInfo>;
  checkSame(Blend, { x, y });
  const s = storage(backend as KernelBackend);
  const out = s.alloc([...x.shape]);
  blendValues(s.view(x), s.view(y), attrs as unknown as BlendAttrs, s.view(out));
  return out;
}) as KernelFunc;

export function updateConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: SgdMomentumStep, backendName, kernelFunc: sgdFunc },
    { kernelName: Blend, backendName, kernelFunc: blendFunc },
  ];
}

const has = (kernel: string) => Boolean(tf.getKernel(kernel, tf.getBackend()));

/** The SGD momentum step of one tensor: [new weights, new velocity]. One kernel where the backend has ours. */
export function sgdMomentumStep(w: tf.Tensor, g: tf.Tensor, v: tf.Tensor, lr: number, momentum: number, weightDecay: number): [tf.Tensor, tf.Tensor] {
  if (has(SgdMomentumStep) && w.dtype === 'float32' && g.dtype === 'float32') {
    const attrs: SgdAttrs = { lr, momentum, weightDecay };
    const [wOut, vOut] = tf.engine().runKernel(SgdMomentumStep, { w, g, v }, attrs as unknown as NamedAttrMap) as tf.Tensor[];
    return [wOut!, vOut!];
  }
  const decayed = weightDecay === 0 ? g : tf.add(g, tf.mul(w, weightDecay));
  const velocity = tf.add(tf.mul(v, momentum), decayed);
  return [tf.sub(w, tf.mul(velocity, lr)), velocity];
}

/** a·x + b·y. One kernel where the backend has ours. */
export function blend(x: tf.Tensor, y: tf.Tensor, a: number, b: number): tf.Tensor {
  if (has(Blend) && x.dtype === 'float32' && y.dtype === 'float32' && x.shape.join() === y.shape.join()) {
    return tf.engine().runKernel(Blend, { x, y }, { a, b } as unknown as NamedAttrMap) as tf.Tensor;
  }
  return tf.add(tf.mul(x, a), tf.mul(y, b));
}
