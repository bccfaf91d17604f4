// Helpers shared by the kernel tests (not a test file itself).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend';

/** Starts wasm (with the project's kernels) and makes sure cpu is available too. */
export async function setupBackends(): Promise<void> {
  await initBackend('cpu');
  await initBackend('wasm');
}

/** Runs fn on the named backend; returns the values of the tensor(s) it returns (all tensors disposed). */
export async function on(backend: 'wasm' | 'cpu', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const values = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  if (tf.memory().numTensors !== before) throw new Error(`${tf.memory().numTensors - before} tensors leaked`);
  return values;
}

/** Deterministic pseudo-random values in [-1, 1). */
export function randomValues(size: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** max |a - b| / max(1, max |b|): the relative error the tests bound. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
