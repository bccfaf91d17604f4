// Loads weights named and laid out as a PyTorch state dict into a network's ParamStore, by name, and reports what
// matched. Every source of such weights (a raw test dump, the PyTorch checkpoint reader) goes through here.
// Layout: PyTorch convolutions are [out, in, kh, kw]; the store keeps tfjs's [kh, kw, in, out], so 4-D weights
// are transposed. Vectors (biases, batch norm) are taken as they are. `num_batches_tracked` (a step counter of
// nn.BatchNorm2d, not used by inference) is skipped and counted apart.
import type { CordaNetwork } from './network';
import * as tf from './tf';

export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

export interface ShapeMismatch {
  name: string;
  /** The store's shape in PyTorch layout, to compare with `given`. */
  expected: number[];
  given: number[];
}

export interface WeightLoadReport {
  /** Store names assigned from the weights. */
  loaded: string[];
  /** Store names the weights do not hold (left as they were). */
  missing: string[];
  /** Weight names the store does not know. */
  unexpected: string[];
  shapeMismatches: ShapeMismatch[];
  /** `*.num_batches_tracked` entries, skipped. */
  skipped: string[];
}

const SKIPPED_SUFFIX = '.num_batches_tracked';

/** [kh, kw, in, out] → [out, in, kh, kw]; other ranks unchanged. */
export function torchShapeOf(storeShape: readonly number[]): number[] {
  if (storeShape.length !== 4) return [...storeShape];
  const [kh, kw, inCh, out] = storeShape as [number, number, number, number];
  return [out, inCh, kh, kw];
}

/** A PyTorch [out, in, kh, kw] array as tfjs [kh, kw, in, out]. */
export function torchConvToTfjs(data: Float32Array, torchShape: readonly number[]): Float32Array {
  const [out, inCh, kh, kw] = torchShape as [number, number, number, number];
  const result = new Float32Array(data.length);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inCh; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) result[((y * kw + x) * inCh + i) * out + o] = data[((o * inCh + i) * kh + y) * kw + x]!;
      }
    }
  }
  return result;
}

/** Assigns every store parameter whose name `weights` holds with a matching shape; returns what matched. */
export function loadNamedWeights(network: CordaNetwork, weights: ReadonlyMap<string, NamedWeight>): WeightLoadReport {
  const report: WeightLoadReport = { loaded: [], missing: [], unexpected: [], shapeMismatches: [], skipped: [] };
  const store = network.params;
  for (const [name, variable] of store.vars) {
    const given = weights.get(name);
    if (!given) {
      report.missing.push(name);
      continue;
    }
    const expected = torchShapeOf(variable.shape);
    if (expected.join() !== given.shape.join()) {
      report.shapeMismatches.push({ name, expected, given: [...given.shape] });
      continue;
    }
    if (given.data.length !== expected.reduce((a, b) => a * b, 1)) throw new Error(`${name}: ${given.data.length} values for shape [${given.shape.join(', ')}].`);
    const data = variable.shape.length === 4 ? torchConvToTfjs(given.data, given.shape) : given.data;
    tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
    report.loaded.push(name);
  }
  for (const name of weights.keys()) {
    if (store.vars.has(name)) continue;
    if (name.endsWith(SKIPPED_SUFFIX)) report.skipped.push(name);
    else report.unexpected.push(name);
  }
  return report;
}

/** One line for logs: "loaded 632, missing 0, unexpected 0, shape mismatches 0". */
export function describeWeightLoad(report: WeightLoadReport): string {
  return `loaded ${report.loaded.length}, missing ${report.missing.length}, unexpected ${report.unexpected.length}, shape mismatches ${report.shapeMismatches.length}`;
}
