// torch.save's two file formats. Zip (PyTorch ≥ 1.6): `<name>/data.pkl` plus one entry per storage,
// `<name>/data/<key>`. Legacy: five pickles in a row (magic number, protocol version, system info, the object,
// the storage keys) followed by each storage as an int64 element count and its raw little-endian bytes.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError } from '../../../shared/api';
import { torchHooks } from './globals';
import { notPickleSentence, truncatedSentence, unpickle } from './pickle';
import { ELEMENT_BYTES, isPendingTensor, materialise, type PendingTensor, type StorageRef } from './tensors';
import type { PyValue, TorchTensor } from './values';
import { looksLikeZip, readZipDirectory, zipEntryBytes } from './zip';

export type CheckpointFormat = 'zip' | 'legacy';

export interface TorchCheckpoint {
  format: CheckpointFormat;
  /** The saved object: dicts as Maps, lists and tuples as arrays, tensors as TorchTensor. */
  root: PyValue;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** Node's readFile stops at 2 GiB; larger checkpoints are rare enough to say so rather than stream. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

export async function readTorchCheckpointFile(path: string): Promise<TorchCheckpoint> {
  const label = basename(path);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError(`"${path}" is not a file; pass the checkpoint file itself.`);
    size = info.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`Cannot read "${path}": ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is no such file' : (error as Error).message}.`);
  }
  if (size > MAX_FILE_BYTES) throw new UserError(`"${label}" is ${(size / 2 ** 30).toFixed(1)} GiB; checkpoints over 2 GiB cannot be read yet (save only the state dict you need).`);
  return readTorchCheckpoint(await readFile(path), label);
}

/** Reads a checkpoint held in memory; `label` names it in the sentences of errors. */
export function readTorchCheckpoint(bytes: Uint8Array, label: string): TorchCheckpoint {
  if (bytes.length === 0) throw new UserError(`"${label}" is empty, so it is not a PyTorch checkpoint.`);
  return looksLikeZip(bytes) ? readZip(bytes, label) : readLegacy(bytes, label);
}

function readZip(bytes: Uint8Array, label: string): TorchCheckpoint {
  const entries = readZipDirectory(bytes, label);
  const pickleName = [...entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName) {
    throw new UserError(`"${label}" is a zip archive without data.pkl, so it is not a PyTorch checkpoint written by torch.save.`);
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  if (entries.has(`${prefix}constants.pkl`)) {
    throw new UserError(`"${label}" is a TorchScript model (torch.jit.save) rather than a torch.save checkpoint; load it in PyTorch and save its state_dict() instead.`);
  }
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder && new TextDecoder().decode(zipEntryBytes(bytes, byteOrder, label)).trim() === 'big') {
    throw new UserError(`"${label}" was saved on a big-endian machine, which this reader does not handle.`);
  }
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zipEntryBytes(bytes, entries.get(pickleName)!, label), 0, torchHooks(label, storages), label);
  const storageBytes = new Map<string, Uint8Array>();
  for (const ref of storages.values()) {
    const entry = entries.get(`${prefix}data/${ref.key}`);
    if (!entry) throw new UserError(`"${label}" lacks the data of storage ${ref.key} that its tensors use; the file is damaged, so it was not loaded.`);
    const declared = ref.numel * ELEMENT_BYTES[ref.dtype];
    if (declared > entry.size) throw new UserError(oversizeSentence(label, declared, entry.size));
    storageBytes.set(ref.key, zipEntryBytes(bytes, entry, label).subarray(0, declared));
  }
  return { format: 'zip', root: resolveTensors(value, storageBytes, label) };
}

function oversizeSentence(label: string, declared: number, available: number): string {
  return `"${label}" declares a storage of ${declared} bytes where only ${available} are left: the file is truncated or damaged, so it was not loaded.`;
}

function readLegacy(bytes: Uint8Array, label: string): TorchCheckpoint {
  if (bytes[0] !== 0x80) throw new UserError(notPickleSentence(label, 'it does not start with pickle data'));
  const refuseAll = torchHooks(label, new Map());
  const magic = unpickle(bytes, 0, refuseAll, label);
  if (magic.value !== LEGACY_MAGIC) {
    throw new UserError(notPickleSentence(label, 'it is a Python pickle, but not one written by torch.save'));
  }
  const protocol = unpickle(bytes, magic.end, refuseAll, label);
  if (protocol.value !== LEGACY_PROTOCOL) throw new UserError(notPickleSentence(label, `it declares serialisation protocol ${String(protocol.value)}`));
  const sysInfo = unpickle(bytes, protocol.end, refuseAll, label);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new UserError(`"${label}" was saved on a big-endian machine, which this reader does not handle.`);
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, sysInfo.end, torchHooks(label, storages), label);
  const keys = unpickle(bytes, main.end, refuseAll, label);
  if (!Array.isArray(keys.value)) throw new UserError(notPickleSentence(label, 'its list of storages is missing'));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storageBytes = new Map<string, Uint8Array>();
  let at = keys.end;
  for (const key of keys.value) {
    const ref = storages.get(String(key));
    if (!ref) throw new UserError(`"${label}" stores a storage (${String(key)}) that none of its tensors declares; the file is damaged, so it was not loaded.`);
    if (at + 8 > bytes.length) throw new UserError(truncatedSentence(label));
    const count = view.getBigInt64(at, true);
    const length = BigInt(ELEMENT_BYTES[ref.dtype]) * count;
    at += 8;
    if (count < 0n || length > BigInt(bytes.length - at)) throw new UserError(oversizeSentence(label, Number(length), bytes.length - at));
    storageBytes.set(ref.key, bytes.subarray(at, at + Number(length)));
    at += Number(length);
  }
  return { format: 'legacy', root: resolveTensors(main.value, storageBytes, label) };
}

/** Replaces every pending tensor in the unpickled value by its materialised values (shared ones once). */
function resolveTensors(value: unknown, storageBytes: Map<string, Uint8Array>, label: string): PyValue {
  const done = new Map<PendingTensor, TorchTensor>();
  const tensorOf = (pending: PendingTensor): TorchTensor => {
    let tensor = done.get(pending);
    if (!tensor) {
      const bytes = storageBytes.get(pending.storage.key);
      if (!bytes) throw new UserError(`"${label}" lacks the data of storage ${pending.storage.key} that its tensors use; the file is damaged, so it was not loaded.`);
      tensor = materialise(pending, bytes, label);
      done.set(pending, tensor);
    }
    return tensor;
  };
  if (isPendingTensor(value)) return tensorOf(value);
  // Iterative, so that a hostile file's deep nesting cannot exhaust the call stack.
  const pending: object[] = [];
  const visited = new Set<object>();
  const visit = (item: unknown) => {
    if (typeof item === 'object' && item !== null && !visited.has(item) && (Array.isArray(item) || item instanceof Map)) {
      visited.add(item);
      pending.push(item);
    }
  };
  visit(value);
  for (let container = pending.pop(); container; container = pending.pop()) {
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        if (isPendingTensor(container[i])) container[i] = tensorOf(container[i] as PendingTensor);
        else visit(container[i]);
      }
    } else if (container instanceof Map) {
      for (const [key, entry] of container) {
        if (isPendingTensor(entry)) container.set(key, tensorOf(entry));
        else visit(entry);
      }
    }
  }
  return value as PyValue;
}
