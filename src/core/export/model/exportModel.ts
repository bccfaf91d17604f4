// Export a finished round's student as a TensorFlow.js graph model or an ONNX file, with model-card.json,
// into a new folder, all or nothing. planModelExport checks everything it can before any work (and reads
// all it needs from the project), exportModel then builds the inference graph, writes it and the card.
import type { ModelFormat } from '../../../shared/api';
import { UserError } from '../../../shared/api';
import { defaultConfig, type RoundConfig } from '../../adapt/config';
import { workingSize } from '../../adapt/data';
import { finalCheckpoint } from '../../adapt/roundCheckpoints';
import { readCheckpoint, type TensorEntry } from '../../model/checkpoint';
import { PRESETS, type Method, type PresetName } from '../../model/network';
import type { Db } from '../../store/db';
import { getDataset, listImages } from '../../store/datasetsRepo';
import { getRound } from '../../store/roundsRepo';
import { APP_VERSION } from '../../version';
import { checkExportTarget, writeExportFolder, type ExportFile } from './exportFolder';
import { buildInferenceGraph } from '../../model/graph/inferenceGraph';
import { resolvedDepthScale } from '../../adapt/networkFor';
import { modelCard, type CardSource } from './modelCard';
import { onnxModel } from '../../model/graph/onnxModel';
import { tfjsGraphModel } from './tfjsGraphModel';

export interface ModelExportRequest {
  roundId: number;
  format: ModelFormat;
  outDir: string;
}

export interface ModelExportPlan {
  format: ModelFormat;
  /** The absolute export folder. */
  target: string;
  checkpointPath: string;
  preset: PresetName;
  method: Method;
  /** The round's depth scale (folded into the exported depth heads, whose outputs are in target units). */
  depthScale: number;
  /** The size the workbench predicts the target images at (the export's fixed input size). */
  width: number;
  height: number;
  round: CardSource['round'];
  training: CardSource['training'];
}

export interface ModelExportResult {
  outDir: string;
  format: ModelFormat;
  files: { name: string; bytes: number }[];
  bytes: number;
  seconds: number;
  input: { width: number; height: number };
}

export type ExportPhase = 'building graph' | 'writing weights' | 'writing card';

/** Checks the request (round finished, target folder usable) and gathers what the export needs; one sentence per problem. */
export function planModelExport(db: Db, request: ModelExportRequest): ModelExportPlan {
  const round = getRound(db, request.roundId);
  if (!round) throw new UserError(`There is no round ${request.roundId} in this project.`);
  const checkpoint = finalCheckpoint(db, round.id);
  const target = checkExportTarget(request.outDir);
  const config = defaultConfig(round.method as Method, round.preset as PresetName, round.config as Partial<RoundConfig>);
  const images = listImages(db, { datasetId: round.targetDatasetId });
  if (images.length === 0) throw new UserError(`The target dataset of round ${round.id} has no images left to size the model's input by; re-import it first.`);
  const size = workingSize(mostCommonSize(images), config.targetWidth);
  const dataset = (id: number) => {
    const d = getDataset(db, id);
    return d ? { id: d.id, name: d.name, kind: d.kind } : null;
  };
  return {
    format: request.format,
    target,
    checkpointPath: checkpoint.path,
    preset: config.preset,
    method: config.method,
    depthScale: resolvedDepthScale(config),
    ...size,
    round: {
      id: round.id,
      parentId: round.parentId,
      method: round.method,
      preset: round.preset,
      iteration: round.iteration,
      config: round.config,
      backend: round.backend,
      metrics: round.metrics,
      timings: round.timings,
      createdAt: round.createdAt,
      finishedAt: round.finishedAt,
    },
    training: { source: dataset(round.sourceDatasetId), target: dataset(round.targetDatasetId) },
  };
}

/** Indented JSON with arrays of numbers (palette, shapes, statistics) kept on one line. */
function cardJson(card: Record<string, unknown>): string {
  return `${JSON.stringify(card, null, 2).replace(/\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g, (_, items: string) => `[${items.split(/,\s+/).join(', ')}]`)}\n`;
}

function mostCommonSize(images: { width: number; height: number }[]): { width: number; height: number } {
  const counts = new Map<string, { width: number; height: number; n: number }>();
  for (const { width, height } of images) {
    const entry = counts.get(`${width}x${height}`) ?? { width, height, n: 0 };
    entry.n++;
    counts.set(`${width}x${height}`, entry);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]!;
}

export interface ExportOptions {
  signal?: AbortSignal;
  onProgress?: (phase: ExportPhase, done: number, total: number) => void;
}

export async function exportModel(plan: ModelExportPlan, options: ExportOptions = {}): Promise<ModelExportResult> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  progress('building graph', 0, 1);
  const params = new Map<string, TensorEntry>();
  for (const [name, t] of readCheckpoint(plan.checkpointPath).tensors) {
    if (name.startsWith('student/')) params.set(name.slice('student/'.length), t);
  }
  const preset = PRESETS[plan.preset];
  // The network multiplies its depth heads by the round's depth scale; the graph folds it into their weights.
  const graph = buildInferenceGraph({ preset, method: plan.method, params, width: plan.width, height: plan.height, depthScale: plan.depthScale });
  const cardFor = (files: string[]) =>
    modelCard({ format: plan.format, graph, preset, files: [...files, 'model-card.json'], appVersion: APP_VERSION, round: plan.round, training: plan.training });
  let model: ExportFile[];
  let card: Record<string, unknown>;
  if (plan.format === 'tfjs') {
    model = tfjsGraphModel(graph, { generatedBy: `corda-workbench ${APP_VERSION}` });
    card = cardFor(model.map((f) => f.name));
  } else {
    card = cardFor(['model.onnx']);
    const docString = `CorDA workbench round ${plan.round.id} (${plan.method}, ${plan.preset}); see model-card.json.`;
    model = [onnxModel(graph, { producerVersion: APP_VERSION, docString, metadata: { model_card: JSON.stringify(card) } })];
  }
  progress('building graph', 1, 1);
  options.signal?.throwIfAborted();

  const files: ExportFile[] = [...model, { name: 'model-card.json', data: Buffer.from(cardJson(card)), kind: 'card' }];
  const modelBytes = model.reduce((n, f) => n + f.data.byteLength, 0);
  progress('writing weights', 0, modelBytes);
  await writeExportFolder(plan.target, files, {
    signal: options.signal,
    onProgress: (file, done) => (file.kind === 'card' ? progress('writing card', 1, 1) : progress('writing weights', done, modelBytes)),
  });
  return {
    outDir: plan.target,
    format: plan.format,
    files: files.map((f) => ({ name: f.name, bytes: f.data.byteLength })),
    bytes: files.reduce((n, f) => n + f.data.byteLength, 0),
    seconds: (performance.now() - started) / 1000,
    input: { width: plan.width, height: plan.height },
  };
}
