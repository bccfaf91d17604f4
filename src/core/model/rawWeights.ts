// A plain exchange format for named float32 tensors, written by scripts/deeplabv2_corda.py: `<stem>.json` lists
// {name, shape, offset} (offset in values) and `<stem>.f32` holds every tensor's values back to back, little-endian.
// The parity tests read the twin's inputs and outputs with it (its weights go through torch.save and the reader).
import { readFileSync } from 'node:fs';

export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

interface RawIndexEntry {
  name: string;
  shape: number[];
  offset: number;
}

export function readRawTensors(stem: string): Map<string, NamedWeight> {
  const index = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as { tensors: RawIndexEntry[] };
  const read = readFileSync(`${stem}.f32`);
  // A small file may sit in Node's shared pool at an offset a Float32Array cannot start at: copy it then.
  const bytes = read.byteOffset % 4 === 0 ? read : new Uint8Array(read);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  const tensors = new Map<string, NamedWeight>();
  for (const entry of index.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.offset + size > all.length) throw new Error(`${stem}.f32 is shorter than its index says (${entry.name}).`);
    tensors.set(entry.name, { shape: entry.shape, data: all.subarray(entry.offset, entry.offset + size) });
  }
  return tensors;
}
