// A PyTorch checkpoint as a network's initial weights: read with the restricted reader, matched by the PyTorch
// names and layouts of torchLayout, and assigned into the network (tfjs layouts). What is missing keeps the
// network's own initial values; nothing matching, or any shape mismatch, is refused with one sentence.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UserError } from '../../shared/api';
import type { CordaNetwork } from './network';
import type { ParamSpec } from './params';
import * as tf from './tf';
import { matchReport, readTorchCheckpointFile, stateDictOf, type StateDictSource, type TorchTensor } from './torchCheckpoint';
import { torchName, torchShape, withSmallEncoderNames } from './torchLayout';

export const INIT_SOURCES: StateDictSource[] = ['model', 'ema_model'];

/** What a round or an imported model started from; plain data for the round record, reports and JSON. */
export interface InitReport {
  file: string;
  name: string;
  sha256: string;
  from: StateDictSource;
  loaded: number;
  missing: string[];
  unexpected: string[];
  shapeMismatches: { name: string; expected: number[]; found: number[] }[];
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The torch axis order of a parameter as torchShape writes it, as indices into the engine's shape: conv filters
 * [kh, kw, in, out] → [out, in, kh, kw], depthwise [k, k, C, 1] → [C, 1, k, k], dense [in, out] → [out, in].
 */
function torchAxes(spec: ParamSpec): number[] {
  const rank = spec.shape.length;
  if (spec.kind === 'weight' && rank === 4) return spec.name.endsWith('.dw') ? [2, 3, 0, 1] : [3, 2, 0, 1];
  if (spec.kind === 'weight' && rank === 2) return [1, 0];
  return [...Array(rank).keys()];
}

/** A torch tensor's values (row-major in its torch shape) in the engine's layout for `spec`. */
export function toEngineLayout(spec: ParamSpec, tensor: Pick<TorchTensor, 'data'>): Float32Array {
  const source = tensor.data instanceof BigInt64Array ? Float32Array.from(tensor.data, Number) : tensor.data;
  const axes = torchAxes(spec);
  const out = new Float32Array(source.length);
  if (axes.every((a, i) => a === i)) {
    out.set(source);
    return out;
  }
  const shape = spec.shape;
  const rank = shape.length;
  // Strides of the torch tensor, expressed per engine axis.
  const torchDims = axes.map((a) => shape[a]!);
  const strideByEngineAxis = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let k = rank - 1; k >= 0; k--) {
    strideByEngineAxis[axes[k]!] = stride;
    stride *= torchDims[k]!;
  }
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let offset = 0;
    for (let a = 0; a < rank; a++) offset += index[a]! * strideByEngineAxis[a]!;
    out[i] = source[offset]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++index[a]! < shape[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}

/** The inverse of toEngineLayout: engine values of `spec` as row-major values of its torch shape (torchShape). */
export function toTorchLayout(spec: ParamSpec, data: Float32Array): Float32Array {
  const axes = torchAxes(spec);
  const shape = spec.shape;
  const rank = shape.length;
  const out = new Float32Array(data.length);
  const engineStrides = new Array<number>(rank).fill(0);
  for (let a = rank - 1, stride = 1; a >= 0; a--) {
    engineStrides[a] = stride;
    stride *= shape[a]!;
  }
  const torchDims = axes.map((a) => shape[a]!);
  const index = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let offset = 0;
    for (let k = 0; k < rank; k++) offset += index[k]! * engineStrides[axes[k]!]!;
    out[i] = data[offset]!;
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < torchDims[k]!) break;
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Reads `file`, matches its `from` state dict against `network` and assigns what matches. Refuses (nothing
 * assigned) when no weight fits or any shape differs. `presetLabel` names the network in sentences.
 */
export async function loadTorchInit(network: CordaNetwork, file: string, from: StateDictSource, presetLabel: string, expectedSha256?: string): Promise<InitReport> {
  const path = resolve(file);
  const name = basename(path);
  const checkpoint = await readTorchCheckpointFile(path);
  const sha256 = await fileSha256(path);
  if (expectedSha256 && sha256 !== expectedSha256) {
    throw new UserError(`"${name}" has changed since the round started from it (sha256 ${sha256.slice(0, 12)}…, was ${expectedSha256.slice(0, 12)}…); start a new round from the file as it is now.`);
  }
  const found = stateDictOf(checkpoint.root, from, name).tensors;
  const tensors = network.preset.name === 'small' ? withSmallEncoderNames(found).tensors : found;
  const specByTorchName = new Map<string, ParamSpec>();
  const expected = new Map<string, number[]>();
  for (const spec of network.params.specs.values()) {
    specByTorchName.set(torchName(spec), spec);
    expected.set(torchName(spec), torchShape(spec));
  }
  const match = matchReport(tensors, expected);
  if (match.loaded.length === 0) {
    const fileKey = [...tensors.keys()][0];
    const netKey = [...expected.keys()][0];
    throw new UserError(
      `None of the ${tensors.size} weights of "${name}" fit the ${presetLabel} network (the file has keys like "${fileKey ?? 'none'}", the network "${netKey}"); pass a checkpoint of a ${presetLabel} network, or find the preset it fits with \`corda weights inspect ${path} --preset P\` and pass that --preset.`,
    );
  }
  if (match.shapeMismatches.length > 0) {
    const first = match.shapeMismatches[0]!;
    throw new UserError(
      `${match.shapeMismatches.length} weight(s) of "${name}" have another shape than in the ${presetLabel} network (first: ${first.name}, file [${first.found.join(', ')}], network [${first.expected.join(', ')}]); it was saved from another preset or variant: pass the --preset (and for paper the --variant) it fits (see \`corda weights inspect ${path} --preset P\`).`,
    );
  }
  for (const key of match.loaded) {
    const spec = specByTorchName.get(key)!;
    const values = toEngineLayout(spec, tensors.get(key)!);
    const variable = network.params.vars.get(spec.name)!;
    tf.tidy(() => variable.assign(tf.tensor(values, spec.shape)));
  }
  return { file: path, name, sha256, from, loaded: match.loaded.length, missing: match.missing, unexpected: match.unexpected, shapeMismatches: match.shapeMismatches };
}

/** The report as lines for a terminal or a log. */
export function describeInitReport(report: InitReport): string[] {
  const lines = [`Initial weights from ${report.name} (${report.from}, sha256 ${report.sha256.slice(0, 12)}…): ${report.loaded} loaded, ${report.missing.length} missing, ${report.unexpected.length} unexpected, ${report.shapeMismatches.length} with another shape.`];
  const list = (title: string, names: string[]) => {
    if (names.length === 0) return;
    lines.push(`  ${title}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? `, … (${names.length - 8} more)` : ''}`);
  };
  list('missing (kept as initialised)', report.missing);
  list('unexpected (no place in the network)', report.unexpected);
  return lines;
}

/** The summary stored with a round (the lists can be long: counts, and the file's identity). */
export function initRecord(report: InitReport) {
  return { file: report.file, name: report.name, sha256: report.sha256, from: report.from, loaded: report.loaded, missing: report.missing.length, unexpected: report.unexpected.length };
}
