// Pretrained encoder weights from a tfjs LayersModel folder (the tensorflowjs converter's `tfjs_layers_model`
// output, e.g. Keras MobileNetV2 ImageNet weights): model.json (modelTopology + weightsManifest) and its binary
// shards. Weights are matched to the `small` preset's MobileNetV2 encoder by Keras layer name and shape
// (`Conv1/kernel` → `enc.Conv1.w`); the report says what loaded and what did not. Read-only: nothing is ever
// written into the folder. Plain fs, no tfjs io handlers.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as tf from './tf';
import { UserError } from '../../shared/api';
import type { CordaNetwork } from './network';

/** One float32 weight read from a LayersModel folder. */
export interface LayersModelWeight {
  /** The name as written in the manifest, e.g. `mobilenetv2_1.00_224/Conv1/kernel`. */
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface LayersModelWeights {
  folder: string;
  /** In manifest order. */
  weights: LayersModelWeight[];
  /** The Keras model's name from modelTopology (e.g. `mobilenetv2_1.00_224`), when it has one. */
  modelName: string | null;
  /** model.json's `convertedBy` / `generatedBy`, when present. */
  convertedBy: string | null;
}

export interface PretrainedReport {
  folder: string;
  modelName: string | null;
  /** Our parameter names that were assigned from the file (e.g. `enc.Conv1.w`), in file order. */
  loaded: string[];
  /** File weights whose layer matched one of our parameters but whose shape did not (nothing assigned). */
  shapeMismatch: { name: string; weight: string; expected: number[]; found: number[] }[];
  /** File weight names (as written in the manifest) that we have no place for, e.g. `Conv_1/kernel`. */
  unused: string[];
  /** Our encoder parameters the file did not provide (they keep their random initialisation). */
  missing: string[];
  /** Remarks for the user, e.g. the input range the weights expect. */
  notes: string[];
}

/** Keras weight name (last path segment) → our parameter suffix. */
const KERAS_SUFFIX: Record<string, string> = {
  kernel: 'w',
  depthwise_kernel: 'dw',
  bias: 'b',
  gamma: 'scale',
  beta: 'offset',
  moving_mean: 'mean',
  moving_variance: 'var',
};

/** `…/<layer>/<weight>[:0]` → `enc.<layer>.<suffix>`, or null for a weight kind we never have. */
export function kerasWeightToParam(name: string): string | null {
  const parts = name.replace(/:\d+$/, '').split('/');
  if (parts.length < 2) return null;
  const layer = parts[parts.length - 2]!;
  const suffix = KERAS_SUFFIX[parts[parts.length - 1]!];
  return layer && suffix ? `enc.${layer}.${suffix}` : null;
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype?: string };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function modelNameOf(topology: Record<string, unknown>): string | null {
  const inner = isRecord(topology.model_config) ? topology.model_config : topology;
  const config = isRecord(inner.config) ? inner.config : null;
  return config && typeof config.name === 'string' ? config.name : null;
}

/** Reads every weight of a tfjs LayersModel folder (float32 only), checking the shards against the manifest. */
export async function readLayersModelWeights(folder: string): Promise<LayersModelWeights> {
  const dir = resolve(folder);
  if (!(await isDirectory(dir))) throw new UserError(`The pretrained weights folder ${folder} does not exist.`);
  const modelPath = join(dir, 'model.json');
  let text: string;
  try {
    text = await readFile(modelPath, 'utf8');
  } catch {
    throw new UserError(`${folder} has no model.json: point at the folder the tensorflowjs converter wrote (tfjs_layers_model format).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${modelPath} is not valid JSON, so it is not a tfjs LayersModel.`);
  }
  if (isRecord(json) && (json.format === 'graph-model' || (isRecord(json.modelTopology) && Array.isArray(json.modelTopology.node)))) {
    throw new UserError(`${modelPath} is a tfjs graph model, not a LayersModel: convert the Keras model with --output_format tfjs_layers_model.`);
  }
  const notLayers = () => new UserError(`${modelPath} is not a tfjs LayersModel (it needs modelTopology and a weightsManifest of paths and weights).`);
  if (!isRecord(json) || !isRecord(json.modelTopology) || !Array.isArray(json.weightsManifest)) throw notLayers();
  if (json.format !== undefined && json.format !== 'layers-model') throw notLayers();

  // Validate the whole manifest before reading any shard.
  const groups: { paths: string[]; weights: ManifestEntry[] }[] = [];
  for (const group of json.weightsManifest as unknown[]) {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw notLayers();
    if (!group.paths.every((p) => typeof p === 'string')) throw notLayers();
    for (const w of group.weights as unknown[]) {
      if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw notLayers();
      }
      if (w.quantization !== undefined) {
        const q = isRecord(w.quantization) && typeof w.quantization.dtype === 'string' ? w.quantization.dtype : 'quantised';
        throw new UserError(`${folder} holds quantised weights (${q} for ${w.name}): convert the model again without --quantize_* options, only float32 weights can be loaded.`);
      }
      if (w.dtype !== 'float32') {
        throw new UserError(`The weight ${w.name} in ${modelPath} has dtype ${String(w.dtype)}: only float32 weights can be loaded.`);
      }
    }
    groups.push({ paths: group.paths as string[], weights: group.weights as ManifestEntry[] });
  }

  const weights: LayersModelWeight[] = [];
  for (const group of groups) {
    const shards: Buffer[] = [];
    for (const p of group.paths) {
      const shardPath = resolve(dir, p);
      const rel = relative(dir, shardPath);
      if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new UserError(`${modelPath} names a weight file outside its folder (${p}), which is not loaded.`);
      try {
        shards.push(await readFile(shardPath));
      } catch {
        throw new UserError(`The weight file ${p} named in ${modelPath} is missing from ${folder}.`);
      }
    }
    const bytes = Buffer.concat(shards);
    const sizes = group.weights.map((w) => w.shape.reduce((a, b) => a * b, 1));
    const expected = sizes.reduce((a, b) => a + b, 0) * 4;
    if (bytes.length !== expected) {
      throw new UserError(
        `The weight files ${group.paths.join(', ')} in ${folder} hold ${bytes.length} bytes but model.json describes ${expected} (a truncated or mismatched download): convert or copy the model again.`,
      );
    }
    let offset = 0;
    group.weights.forEach((w, i) => {
      const data = new Float32Array(sizes[i]!);
      // Copy (shard offsets need not be 4-byte aligned in the Node buffer pool); tfjs weights are little-endian.
      new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + data.byteLength));
      offset += data.byteLength;
      weights.push({ name: w.name, shape: w.shape, data });
    });
  }
  const convertedBy = typeof json.convertedBy === 'string' ? json.convertedBy : typeof json.generatedBy === 'string' ? json.generatedBy : null;
  return { folder, weights, modelName: modelNameOf(json.modelTopology), convertedBy };
}

/**
 * Assigns the weights that match the network's encoder by Keras layer name and shape. Manifest names may carry
 * a model prefix (`mobilenetv2_1.00_224/Conv1/kernel`): the last two path segments decide. Only `enc.*`
 * parameters are ever touched. Throws a UserError, assigning nothing, when the preset has no pretrained encoder
 * or when no weight matches.
 */
export function applyPretrainedEncoder(net: CordaNetwork, file: LayersModelWeights): PretrainedReport {
  if (net.preset.encoderKind !== 'mobilenetv2') {
    throw new UserError(`The ${net.preset.name} preset trains its encoder from scratch: pretrained encoder weights need the small preset (MobileNetV2).`);
  }
  if (net.params.vars.size === 0) net.build();
  const specs = net.params.specs;
  const loaded: string[] = [];
  const shapeMismatch: PretrainedReport['shapeMismatch'] = [];
  const unused: string[] = [];
  const taken = new Set<string>();
  const plan: { param: string; weight: LayersModelWeight }[] = [];
  for (const weight of file.weights) {
    const param = kerasWeightToParam(weight.name);
    const spec = param ? specs.get(param) : undefined;
    if (!param || !spec || taken.has(param)) {
      unused.push(weight.name);
      continue;
    }
    taken.add(param);
    if (!sameShape(spec.shape, weight.shape)) {
      shapeMismatch.push({ name: param, weight: weight.name, expected: [...spec.shape], found: [...weight.shape] });
      continue;
    }
    plan.push({ param, weight });
    loaded.push(param);
  }
  if (plan.length === 0) {
    const why = shapeMismatch.length
      ? `${shapeMismatch.length} matched a layer name but not its shape (the encoder is MobileNetV2 with alpha 1.0)`
      : 'none has a Keras MobileNetV2 layer name such as Conv1/kernel';
    throw new UserError(`No weight in ${file.folder} fits the small encoder: of ${file.weights.length} weights, ${why}.`);
  }
  tf.tidy(() => {
    for (const { param, weight } of plan) net.params.vars.get(param)!.assign(tf.tensor(weight.data, weight.shape));
  });
  const missing = [...specs.keys()].filter((name) => name.startsWith('enc.') && !taken.has(name));
  return {
    folder: file.folder,
    modelName: file.modelName,
    loaded,
    shapeMismatch,
    unused,
    missing,
    notes: [
      `Keras MobileNetV2 expects inputs in [-1, 1]; the ${net.preset.name} preset always normalises RGB as ${net.preset.input.description}.`,
    ],
  };
}

/** Reads a tfjs LayersModel folder and loads the matching weights into the network's encoder. */
export async function loadPretrainedEncoder(net: CordaNetwork, folder: string): Promise<PretrainedReport> {
  return applyPretrainedEncoder(net, await readLayersModelWeights(folder));
}

/** A few lines for a log or the CLI. */
export function describePretrainedReport(report: PretrainedReport): string[] {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const lines = [
    `pretrained encoder from ${report.folder}${report.modelName ? ` (${report.modelName})` : ''}: loaded ${count(report.loaded.length, 'tensor')}, ` +
      `${count(report.shapeMismatch.length, 'shape mismatch')}, ${report.unused.length} unused in the file, ${report.missing.length} encoder tensors not provided`,
  ];
  for (const m of report.shapeMismatch) lines.push(`  shape mismatch: ${m.weight} is [${m.found.join(', ')}], ${m.name} needs [${m.expected.join(', ')}]`);
  if (report.missing.length) lines.push(`  not provided (random init): ${report.missing.slice(0, 8).join(', ')}${report.missing.length > 8 ? ', …' : ''}`);
  if (report.unused.length) lines.push(`  unused: ${report.unused.slice(0, 8).join(', ')}${report.unused.length > 8 ? ', …' : ''}`);
  return [...lines, ...report.notes.map((n) => `  note: ${n}`)];
}
