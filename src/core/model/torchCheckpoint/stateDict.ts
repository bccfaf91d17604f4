// From a loaded checkpoint to a state dict with the reference's key names, and how it matches a network.
// Layouts the reference meets: its own checkpoints ({model, ema_model, optimizer, config, iteration}), the
// DeepLab inits (a bare state dict, ImageNet's with every key under `Scale.`), torchvision's bare state dicts,
// and any of them saved from an nn.DataParallel (`module.` before every key).
import { UserError } from '../../../shared/api';
import { isDict, isTensor, type PyValue, type TorchTensor } from './values';

export type StateDictSource = 'model' | 'ema_model';

export interface StateDict {
  /** Tensors by key, prefixes removed, in file order. */
  tensors: Map<string, TorchTensor>;
  /**
   * Where in the checkpoint the state dict was: '' for a bare state dict, else its key (e.g. 'ema_model');
   * null for a listing of every tensor of a checkpoint that holds no state dict.
   */
  path: string | null;
  /** The prefixes removed from the keys, e.g. ['module.']. */
  strippedPrefixes: string[];
}

export interface MatchReport {
  /** Keys present in both with the same shape. */
  loaded: string[];
  /** Expected keys the state dict lacks. */
  missing: string[];
  /** State-dict keys the network has no place for. */
  unexpected: string[];
  shapeMismatches: { name: string; expected: number[]; found: number[] }[];
  /** Batch-norm step counters (`num_batches_tracked`) the network does not keep; harmless. */
  ignored: string[];
}

const PREFIXES = ['module.', 'Scale.'];
const WRAPPER_KEYS = ['state_dict', 'model_state_dict'];

function isStateDict(value: PyValue | undefined): value is Map<string, PyValue> {
  if (!isDict(value) || value.size === 0) return false;
  let tensors = 0;
  for (const [key, entry] of value) {
    if (typeof key !== 'string') return false;
    if (isTensor(entry)) tensors++;
  }
  // A state dict is all tensors; a checkpoint holds a few tensors at most (none, in practice) beside its dicts.
  return tensors === value.size;
}

/**
 * The state dict of `which` network in a checkpoint, keys without `module.` / `Scale.`. A bare state dict is
 * its own 'model'; asking it for 'ema_model' is an error that says so.
 */
export function stateDictOf(root: PyValue, which: StateDictSource = 'model', label = 'the checkpoint'): StateDict {
  let found: Map<string, PyValue> | null = null;
  let path = '';
  if (isStateDict(root)) {
    if (which === 'ema_model') throw new UserError(`"${label}" is a bare state dict with no separate EMA teacher; load it as 'model'.`);
    found = root;
  } else if (isDict(root)) {
    for (const key of [which, ...(which === 'model' ? WRAPPER_KEYS : [])]) {
      const candidate = root.get(key);
      if (isStateDict(candidate)) {
        found = candidate;
        path = key;
        break;
      }
    }
    if (!found) {
      const keys = [...root.keys()].map(String);
      const alternative = which === 'ema_model' && isStateDict(root.get('model')) ? "; use 'model' instead" : '';
      throw new UserError(`"${label}" holds no "${which}" state dict (its top-level keys: ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''})${alternative}.`);
    }
  } else {
    throw new UserError(`"${label}" holds ${describe(root)} rather than a dict of weights, so it has no state dict.`);
  }
  const tensors = new Map<string, TorchTensor>();
  const stripped = new Set<string>();
  for (const [key, tensor] of found) {
    let name = key;
    for (let changed = true; changed; ) {
      changed = false;
      for (const prefix of PREFIXES) {
        if (name.startsWith(prefix)) {
          name = name.slice(prefix.length);
          stripped.add(prefix);
          changed = true;
        }
      }
    }
    if (!tensors.has(name)) tensors.set(name, tensor as TorchTensor);
  }
  return { tensors, path, strippedPrefixes: [...stripped] };
}

/** Every tensor anywhere in a checkpoint under its dotted path (`optimizer.state.0.momentum_buffer`), in order. */
export function allTensors(root: PyValue): Map<string, TorchTensor> {
  const found = new Map<string, TorchTensor>();
  const seen = new Set<object>();
  // Depth first with an explicit stack (a hostile file may nest deeper than the call stack goes).
  const stack: [PyValue, string][] = [[root, '']];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [value, path] = next;
    if (isTensor(value)) {
      if (!found.has(path)) found.set(path, value);
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const join = (key: unknown) => (path ? `${path}.${String(key)}` : String(key));
    const children: [PyValue, string][] = isDict(value) ? [...value].map(([key, item]) => [item, join(key)]) : Array.isArray(value) ? value.map((item, i) => [item, join(i)]) : [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return found;
}

function describe(value: PyValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  if (isTensor(value)) return 'a single tensor';
  return `a ${typeof value}`;
}

/** How a state dict fits a network's expected parameter names and shapes; plain data for reports and JSON. */
export function matchReport(stateDict: Map<string, { shape: number[] }>, expected: Map<string, readonly number[]>): MatchReport {
  const report: MatchReport = { loaded: [], missing: [], unexpected: [], shapeMismatches: [], ignored: [] };
  for (const [name, shape] of expected) {
    const tensor = stateDict.get(name);
    if (!tensor) report.missing.push(name);
    else if (tensor.shape.join() !== shape.join()) report.shapeMismatches.push({ name, expected: [...shape], found: [...tensor.shape] });
    else report.loaded.push(name);
  }
  for (const name of stateDict.keys()) {
    if (expected.has(name)) continue;
    if (name.endsWith('.num_batches_tracked') || name === 'num_batches_tracked') report.ignored.push(name);
    else report.unexpected.push(name);
  }
  return report;
}
