// Checkpoints: named float32 tensors in one binary file plus a JSON manifest, written to a temporary folder
// and renamed into place, so a process killed mid-write leaves the previous checkpoint intact.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../../shared/api';

export interface TensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface Manifest {
  format: 'corda-checkpoint-1';
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  meta: Record<string, unknown>;
}

export function writeCheckpoint(dir: string, tensors: TensorEntry[], meta: Record<string, unknown>): string {
  const total = tensors.reduce((n, t) => n + t.data.length, 0);
  const blob = new Float32Array(total);
  const manifest: Manifest = { format: 'corda-checkpoint-1', tensors: [], meta };
  let offset = 0;
  for (const t of tensors) {
    blob.set(t.data, offset);
    manifest.tensors.push({ name: t.name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), bytes);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ ...manifest, sha256 }, null, 1));
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return sha256;
}

export function readCheckpoint(dir: string): { tensors: Map<string, TensorEntry>; meta: Record<string, unknown> } {
  if (!existsSync(join(dir, 'manifest.json'))) throw new UserError(`The checkpoint ${dir} is missing; the round cannot be resumed from it.`);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest & { sha256: string };
  const bytes = readFileSync(join(dir, 'weights.bin'));
  if (createHash('sha256').update(bytes).digest('hex') !== manifest.sha256) {
    throw new UserError(`The checkpoint ${dir} is damaged (its checksum does not match); delete it to resume from an earlier one.`);
  }
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const tensors = new Map<string, TensorEntry>();
  for (const t of manifest.tensors) tensors.set(t.name, { name: t.name, shape: t.shape, data: all.subarray(t.offset, t.offset + t.length) });
  return { tensors, meta: manifest.meta };
}
