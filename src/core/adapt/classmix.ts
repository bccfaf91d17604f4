// ClassMix (CORDA.md §3): per source/target pair, half of the classes present in the source label (chosen at
// random, rounded up) are pasted onto the target image. The mask is computed on the CPU from the label map the
// data loader already holds; mixing happens on tensors.
import * as tf from '../model/tf';
import { IGNORE } from '../../shared/labels';

/** Classes present in a label map (ignore excluded), ascending. */
export function presentClasses(labels: Uint8Array): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < labels.length; i++) seen[labels[i]!] = 1;
  const out: number[] = [];
  for (let c = 0; c < 256; c++) if (seen[c] && c !== IGNORE) out.push(c);
  return out;
}

/** Picks ⌈n/2⌉ of the present classes with `random` (Fisher–Yates prefix), sorted. */
export function pickHalf(classes: number[], random: () => number): number[] {
  const pool = [...classes];
  const take = Math.ceil(pool.length / 2);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, take).sort((a, b) => a - b);
}

/** Binary mask (1 = take the source pixel) of the pixels whose class is in `chosen`. */
export function classMask(labels: Uint8Array, chosen: number[]): Float32Array {
  const pick = new Uint8Array(256);
  for (const c of chosen) pick[c] = 1;
  const mask = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) mask[i] = pick[labels[i]!]!;
  return mask;
}

/** M·a + (1−M)·b for images/maps [B, H, W, C] or [B, H, W] with a mask [B, H, W]. */
export function mix<T extends tf.Tensor>(mask: tf.Tensor3D, a: T, b: T): T {
  return tf.tidy(() => {
    const m = a.rank === 4 ? tf.expandDims(mask, -1) : mask;
    return tf.add(tf.mul(m, a), tf.mul(tf.sub(1, m), b)) as T;
  });
}
