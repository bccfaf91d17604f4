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

const MAGIC = [0x4c, 0x44]; // "LD", then the version byte
const V1 = 0x01;
const V2 = 0x02;
const HEADER_V1 = 8; // magic, version, one spare byte, u32 run count
const HEADER_V2 = 4; // magic, version, one spare byte
const RAW = 0;
const RLE = 1;

export function deltaPixels(delta: LabelDelta): number {
  return delta.labels.length;
}

/**
 * Version 2, the compact layout every stroke is sent and stored in (version 1 is still read):
 *   "LD" 0x02 0x00, varint run count, per run varint gap (from the end of the previous run) and varint length,
 *   then the labels plane and the provenance plane, each a mode byte and either the raw values (labels one byte
 *   each, provenance one bit each) or runs of equal values (value byte, varint count), whichever is shorter.
 * A fill of a whole image takes a few bytes; no stroke takes more than about 1.6 bytes per pixel of the image
 * (every other pixel changed, each to a different class), which keeps every stroke of an image within
 * MAX_IMAGE_PIXELS inside the contract's MAX_DELTA_CHARS.
 */
export function encodeDelta(delta: LabelDelta): Uint8Array {
  const n = delta.labels.length;
  const out = new ByteWriter(16 + delta.runs.length * 2 + Math.min(n, 1024));
  out.bytes(MAGIC[0]!, MAGIC[1]!, V2, 0);
  out.varint(delta.runs.length / 2);
  let end = 0;
  for (let r = 0; r < delta.runs.length; r += 2) {
    out.varint(delta.runs[r]! - end);
    out.varint(delta.runs[r + 1]!);
    end = delta.runs[r]! + delta.runs[r + 1]!;
  }
  writePlane(out, delta.labels, n);
  writePlane(out, delta.human, Math.ceil(n / 8), packBits);
  return out.result();
}

/** Decodes and validates against a map of `pixelCount` pixels; a malformed delta is a UserError. */
export function decodeDelta(bytes: Uint8Array, pixelCount: number): LabelDelta {
  if (bytes.length < HEADER_V2 || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1]) bad('unknown format');
  const delta = bytes[2] === V2 ? decodeV2(bytes, pixelCount) : bytes[2] === V1 ? decodeV1(bytes, pixelCount) : bad('unknown format');
  const { labels, human } = delta;
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c > 18 && c !== 255) bad(`class id ${c} is not in the palette`);
    if (human[i]! > 1) bad('provenance must be 0 or 1');
  }
  return delta;
}

function bad(why: string): never {
  throw new UserError(`The stroke could not be read (${why}); reload the image and draw it again.`);
}

function decodeV1(bytes: Uint8Array, pixelCount: number): LabelDelta {
  if (bytes.length < HEADER_V1) bad('truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const runCount = view.getUint32(4, true);
  if (HEADER_V1 + runCount * 8 > bytes.length) bad('truncated');
  const runs = new Uint32Array(runCount * 2);
  let total = 0;
  let end = 0;
  for (let r = 0; r < runCount; r++) {
    const start = view.getUint32(HEADER_V1 + r * 8, true);
    const length = view.getUint32(HEADER_V1 + r * 8 + 4, true);
    if (length === 0 || start < end || start + length > pixelCount) bad('runs out of order or outside the image');
    runs[r * 2] = start;
    runs[r * 2 + 1] = length;
    end = start + length;
    total += length;
  }
  const offset = HEADER_V1 + runCount * 8;
  if (bytes.length !== offset + total * 2) bad('wrong length');
  return { runs, labels: bytes.slice(offset, offset + total), human: bytes.slice(offset + total, offset + total * 2) };
}

function decodeV2(bytes: Uint8Array, pixelCount: number): LabelDelta {
  const input = new ByteReader(bytes, HEADER_V2);
  const runCount = input.varint();
  // Every run takes at least two bytes: a count beyond that is a lie, refused before anything is allocated.
  if (runCount * 2 > bytes.length - input.offset) bad('truncated');
  const runs = new Uint32Array(runCount * 2);
  let total = 0;
  let end = 0;
  for (let r = 0; r < runCount; r++) {
    const start = end + input.varint();
    const length = input.varint();
    if (length === 0 || start + length > pixelCount) bad('runs out of order or outside the image');
    runs[r * 2] = start;
    runs[r * 2 + 1] = length;
    end = start + length;
    total += length;
  }
  const labels = readPlane(input, total, false);
  const human = readPlane(input, total, true);
  if (input.offset !== bytes.length) bad('wrong length');
  return { runs, labels, human };
}

/** Writes a plane raw (`raw(values)`, `rawLength` bytes) or as runs of equal values, whichever is shorter. */
function writePlane(out: ByteWriter, values: Uint8Array, rawLength: number, raw: (v: Uint8Array) => Uint8Array = (v) => v): void {
  let rleLength = 0;
  for (let i = 0; i < values.length && rleLength <= rawLength; ) {
    let j = i + 1;
    while (j < values.length && values[j] === values[i]) j++;
    rleLength += 1 + varintLength(j - i);
    i = j;
  }
  if (rleLength > rawLength) {
    out.bytes(RAW);
    out.array(raw(values));
    return;
  }
  out.bytes(RLE);
  for (let i = 0; i < values.length; ) {
    let j = i + 1;
    while (j < values.length && values[j] === values[i]) j++;
    out.bytes(values[i]!);
    out.varint(j - i);
    i = j;
  }
}

/** Reads a plane of `count` values: raw (bytes, or bits when `bits`), or runs of equal values adding up to `count`. */
function readPlane(input: ByteReader, count: number, bits: boolean): Uint8Array {
  const mode = input.byte();
  if (mode === RAW) return bits ? unpackBits(input.take(Math.ceil(count / 8)), count) : input.take(count);
  if (mode !== RLE) bad('unknown plane layout');
  const out = new Uint8Array(count);
  let k = 0;
  while (k < count) {
    const value = input.byte();
    const length = input.varint();
    if (length === 0 || k + length > count) bad('wrong length');
    out.fill(value, k, k + length);
    k += length;
  }
  return out;
}

function packBits(values: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) if (values[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function unpackBits(packed: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (packed[i >> 3]! >> (i & 7)) & 1;
  return out;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(Math.max(16, capacity));
  }

  private room(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  bytes(...values: number[]): void {
    this.room(values.length);
    for (const v of values) this.buffer[this.length++] = v;
  }

  array(values: Uint8Array): void {
    this.room(values.length);
    this.buffer.set(values, this.length);
    this.length += values.length;
  }

  /** Unsigned LEB128: seven bits a byte, low bits first. */
  varint(value: number): void {
    this.room(5);
    while (value >= 128) {
      this.buffer[this.length++] = (value % 128) | 128;
      value = Math.floor(value / 128);
    }
    this.buffer[this.length++] = value;
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

class ByteReader {
  constructor(
    private readonly data: Uint8Array,
    public offset: number,
  ) {}

  byte(): number {
    if (this.offset >= this.data.length) bad('truncated');
    return this.data[this.offset++]!;
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.data.length) bad('truncated');
    const out = this.data.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** An unsigned LEB128 below 2^32 (at most five bytes). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      value += (b & 127) * scale;
      if (b < 128) {
        if (value > 0xffffffff) bad('number out of range');
        return value;
      }
      scale *= 128;
    }
    return bad('number out of range');
  }
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
