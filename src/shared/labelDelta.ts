// A stroke's change to a label map: the changed pixels as runs, with the new class and provenance of each.
// The renderer builds one per finished stroke; core applies it, stores its inverse for undo, and sends
// inverses back. One binary layout for both sides, carried as base64 inside the JSON contract.
import { UserError } from './api';

export interface LabelDelta {
  /** Changed pixels as sorted, disjoint runs of row-major indices: [start0, length0, start1, length1, …]. */
  runs: Uint32Array;
  /** The class id of each changed pixel, in run order (0..18 or 255). */
  labels: Uint8Array;
  /** 1 where a person set the pixel, 0 where the label is the model's, in run order. */
  human: Uint8Array;
}

/** The buffers a delta applies to. */
export interface LabelPlanes {
  labels: Uint8Array;
  human: Uint8Array;
}

const MAGIC = [0x4c, 0x44, 0x01]; // "LD" version 1
const HEADER = 8; // magic, one spare byte, u32 run count

export function deltaPixels(delta: LabelDelta): number {
  return delta.labels.length;
}

export function encodeDelta(delta: LabelDelta): Uint8Array {
  const runCount = delta.runs.length / 2;
  const n = delta.labels.length;
  const out = new Uint8Array(HEADER + runCount * 8 + n * 2);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, runCount, true);
  for (let i = 0; i < delta.runs.length; i++) view.setUint32(HEADER + i * 4, delta.runs[i]!, true);
  out.set(delta.labels, HEADER + runCount * 8);
  out.set(delta.human, HEADER + runCount * 8 + n);
  return out;
}

/** Decodes and validates against a map of `pixelCount` pixels; a malformed delta is a UserError. */
export function decodeDelta(bytes: Uint8Array, pixelCount: number): LabelDelta {
  const bad = (why: string): never => {
    throw new UserError(`The stroke could not be read (${why}); reload the image and draw it again.`);
  };
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) bad('unknown format');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const runCount = view.getUint32(4, true);
  if (HEADER + runCount * 8 > bytes.length) bad('truncated');
  const runs = new Uint32Array(runCount * 2);
  let total = 0;
  let end = 0;
  for (let r = 0; r < runCount; r++) {
    const start = view.getUint32(HEADER + r * 8, true);
    const length = view.getUint32(HEADER + r * 8 + 4, true);
    if (length === 0 || start < end || start + length > pixelCount) bad('runs out of order or outside the image');
    runs[r * 2] = start;
    runs[r * 2 + 1] = length;
    end = start + length;
    total += length;
  }
  const offset = HEADER + runCount * 8;
  if (bytes.length !== offset + total * 2) bad('wrong length');
  const labels = bytes.slice(offset, offset + total);
  const human = bytes.slice(offset + total, offset + total * 2);
  for (let i = 0; i < total; i++) {
    const c = labels[i]!;
    if (c > 18 && c !== 255) bad(`class id ${c} is not in the palette`);
    if (human[i]! > 1) bad('provenance must be 0 or 1');
  }
  return { runs, labels, human };
}

/** Writes `delta` into `planes` and returns the delta that undoes it. */
export function applyDelta(planes: LabelPlanes, delta: LabelDelta): LabelDelta {
  const n = delta.labels.length;
  const before: LabelDelta = { runs: delta.runs.slice(), labels: new Uint8Array(n), human: new Uint8Array(n) };
  let k = 0;
  for (let r = 0; r < delta.runs.length; r += 2) {
    const start = delta.runs[r]!;
    const length = delta.runs[r + 1]!;
    for (let i = start; i < start + length; i++, k++) {
      before.labels[k] = planes.labels[i]!;
      before.human[k] = planes.human[i]!;
      planes.labels[i] = delta.labels[k]!;
      planes.human[i] = delta.human[k]!;
    }
  }
  return before;
}

/**
 * Builds a delta from the sorted indices of changed pixels and a function giving each one's new values.
 * Consecutive indices merge into runs.
 */
export function deltaFromIndices(indices: ArrayLike<number>, labelAt: (i: number) => number, humanAt: (i: number) => number): LabelDelta {
  const runs: number[] = [];
  const labels = new Uint8Array(indices.length);
  const human = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    const last = runs.length - 2;
    if (last >= 0 && runs[last]! + runs[last + 1]! === i) runs[last + 1]!++;
    else runs.push(i, 1);
    labels[k] = labelAt(i);
    human[k] = humanAt(i);
  }
  return { runs: Uint32Array.from(runs), labels, human };
}

/** Calls `visit(index, k)` for every pixel of the delta, k counting from 0 in run order. */
export function forEachDeltaPixel(delta: LabelDelta, visit: (index: number, k: number) => void): void {
  let k = 0;
  for (let r = 0; r < delta.runs.length; r += 2) {
    const start = delta.runs[r]!;
    const end = start + delta.runs[r + 1]!;
    for (let i = start; i < end; i++) visit(i, k++);
  }
}

const BASE64 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));
const PAD = 61; // '='

/**
 * Base64 through a byte table and one TextDecoder call: btoa over a string built from char codes took
 * 5-10 ms for a 50 KB stroke on the page, this well under one.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = BASE64[n >> 18]!;
    out[o++] = BASE64[(n >> 12) & 63]!;
    out[o++] = BASE64[(n >> 6) & 63]!;
    out[o++] = BASE64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = BASE64[n >> 18]!;
    out[o++] = BASE64[(n >> 12) & 63]!;
    out[o++] = rest === 2 ? BASE64[(n >> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return new TextDecoder().decode(out);
}

export function base64ToBytes(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new UserError('The stroke could not be read (not base64); reload the image and draw it again.');
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
