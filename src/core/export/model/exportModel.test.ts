// A round's weights (random, with random batch-norm statistics so that folding is exercised) exported as ONNX
// and as a tfjs graph model, run with onnxruntime-node and tf.loadGraphModel on an image normalised as the
// model card says, and compared with the app's own prediction of the same image (predictSample).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../shared/api';
import { loadSample } from '../../adapt/data';
import { predictSample, type Prediction } from '../../adapt/predict';
import { addTargetDataset, createTestProject, type TestProject } from '../../testFixtures/project';
import { randomNetwork } from '../../testFixtures/randomNetwork';
import { initBackend } from '../../model/backend';
import { writeCheckpoint } from '../../model/checkpoint';
import type { Method, PresetName } from '../../model/network';
import * as tf from '../../model/tf';
import { createService } from '../../service';
import { getImage } from '../../store/datasetsRepo';
import { addCheckpoint, createRound, updateRound } from '../../store/roundsRepo';
import { exportModel, planModelExport } from './exportModel';
import { decodeOnnxModel } from '../../model/graph/onnxProto';

let project: TestProject;

beforeAll(async () => {
  await initBackend('wasm');
  project = createTestProject();
});
afterAll(() => project.close());

interface Card {
  classes: string[];
  palette: number[][];
  input: { width: number; height: number; layout: 'NHWC' | 'NCHW'; scale: number; mean: number[]; std: number[]; name: string };
  outputs: Record<string, { shape: number[]; holds: string }>;
  round: { id: number; method: string };
  training: { target: { name: string } };
}

/** A finished round of `preset`/`method` whose checkpoint holds `net`'s weights, on a one-image target dataset. */
async function roundWithRandomWeights(preset: PresetName, method: Method, width: number, height: number) {
  const { datasetId, imageIds } = await addTargetDataset(project, `${preset}-${method}-${width}x${height}`, 1, width, height);
  const net = randomNetwork(preset, method);
  const db = project.db;
  const roundId = createRound(db, { parentId: null, sourceDatasetId: datasetId, targetDatasetId: datasetId, method, preset, config: { targetWidth: width, seed: 5 }, backend: { name: 'wasm' } });
  const dir = join(project.projectDir, 'checkpoints', `round-${roundId}`, 'final');
  addCheckpoint(db, roundId, 1, dir, writeCheckpoint(dir, await net.params.toEntries('student/'), {}));
  updateRound(db, roundId, { status: 'done', finished: true, metrics: { mIoU: 0.25 } });
  const sample = await loadSample(getImage(db, imageIds[0]!)!, width, { labels: false, depth: false });
  const prediction = await predictSample(net, sample, true);
  net.dispose();
  return { roundId, sample, prediction };
}

/** The image as the card says: (pixel / scale - mean) / std per RGB channel, in the card's layout. */
function normalised(rgb: Uint8Array, card: Card): Float32Array {
  const { width, height, layout, scale, mean, std } = card.input;
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[layout === 'NHWC' ? p * 3 + c : c * width * height + p] = (rgb[p * 3 + c]! / scale - mean[c]!) / std[c]!;
  }
  return out;
}

interface Compared {
  agreement: number;
  maxLogitDiff: number;
  maxDepthDiff: number;
}

/** Compares exported outputs (`channelsLast` or not) with the app's prediction. */
function compare(outputs: Record<string, Float32Array>, channelsLast: boolean, app: Prediction, logits: Float32Array): Compared {
  const { width, height } = app;
  const pixels = width * height;
  const seg = outputs.seg!;
  const at = (p: number, c: number, channels: number) => (channelsLast ? p * channels + c : c * pixels + p);
  let agree = 0;
  let maxLogitDiff = 0;
  for (let p = 0; p < pixels; p++) {
    let best = 0;
    for (let c = 0; c < 19; c++) {
      if (seg[at(p, c, 19)]! > seg[at(p, best, 19)]!) best = c;
      maxLogitDiff = Math.max(maxLogitDiff, Math.abs(seg[at(p, c, 19)]! - logits[p * 19 + c]!));
    }
    if (best === app.labels[p]) agree++;
  }
  let maxDepthDiff = 0;
  for (const [name, expected] of [['depth_src', app.depthSrc], ['depth_tgt', app.depthTgt]] as const) {
    expect(Boolean(outputs[name])).toBe(Boolean(expected));
    if (expected) for (let p = 0; p < pixels; p++) maxDepthDiff = Math.max(maxDepthDiff, Math.abs(outputs[name]![p]! - expected[p]!));
  }
  return { agreement: agree / pixels, maxLogitDiff, maxDepthDiff };
}

async function runOnnx(dir: string, card: Card, rgb: Uint8Array): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  const { width, height } = card.input;
  const result = await session.run({ [card.input.name]: new ort.Tensor('float32', normalised(rgb, card), [1, 3, height, width]) });
  await session.release();
  return Object.fromEntries(Object.entries(result).map(([name, t]) => [name, t.data as Float32Array]));
}

async function runTfjs(dir: string, card: Card, rgb: Uint8Array): Promise<Record<string, Float32Array>> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const model = await tf.loadGraphModel({
    load: () =>
      tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const bytes = Buffer.concat(manifest[0]!.paths.map((p) => readFileSync(join(dir, p))));
        return [manifest[0]!.weights, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      }),
  });
  const { width, height } = card.input;
  const x = tf.tensor4d(normalised(rgb, card), [1, height, width, 3]);
  const out = model.predict(x) as tf.NamedTensorMap;
  const data = Object.fromEntries(await Promise.all(Object.entries(out).map(async ([name, t]) => [name, (await t.data()) as Float32Array] as const)));
  tf.dispose([x, ...Object.values(out)]);
  model.dispose();
  return data;
}

describe('exportModel', () => {
  const cases: [PresetName, Method, number, number][] = [
    ['tiny', 'corda', 80, 44], // padded to 80x48 inside the model, as predictSample pads
    ['tiny', 'dacs', 64, 32],
    ['small', 'corda', 64, 40],
  ];
  it.each(cases)('%s %s at %ix%i: ONNX and tfjs outputs match the app’s prediction', async (preset, method, width, height) => {
    const { roundId, sample, prediction } = await roundWithRandomWeights(preset, method, width, height);
    const logits = (await prediction.logits!.data()) as Float32Array;
    prediction.logits!.dispose();
    for (const format of ['onnx', 'tfjs'] as const) {
      const outDir = join(project.dir, 'exports', `${preset}-${method}-${format}`);
      const phases: string[] = [];
      const result = await exportModel(planModelExport(project.db, { roundId, format, outDir }), { onProgress: (phase) => phases.push(phase) });
      expect(new Set(phases)).toEqual(new Set(['building graph', 'writing weights', 'writing card']));
      expect(readdirSync(join(project.dir, 'exports')).filter((n) => n.startsWith('.'))).toEqual([]);
      const card = JSON.parse(readFileSync(join(outDir, 'model-card.json'), 'utf8')) as Card;
      expect(card.classes).toHaveLength(19);
      expect(card.palette[0]).toEqual([128, 64, 128]);
      expect(card.input).toMatchObject({ width, height, layout: format === 'tfjs' ? 'NHWC' : 'NCHW', scale: 255 });
      expect(Object.keys(card.outputs)).toEqual(method === 'corda' ? ['seg', 'depth_src', 'depth_tgt'] : ['seg']);
      expect(card.round).toMatchObject({ id: roundId, method });
      expect(card.training.target.name).toBe(`${preset}-${method}-${width}x${height}`);
      const outputs = format === 'onnx' ? await runOnnx(outDir, card, sample.rgb) : await runTfjs(outDir, card, sample.rgb);
      const compared = compare(outputs, format === 'tfjs', prediction, logits);
      console.log(`${preset} ${method} ${width}x${height} ${format}: ${(result.bytes / 1024).toFixed(0)} KiB in ${(result.seconds * 1000).toFixed(0)} ms, argmax agreement ${(compared.agreement * 100).toFixed(3)} %, max |logit diff| ${compared.maxLogitDiff.toExponential(2)}, max |depth diff| ${compared.maxDepthDiff.toExponential(2)}`);
      expect(compared.agreement).toBeGreaterThanOrEqual(0.999);
      expect(compared.maxLogitDiff).toBeLessThan(1e-3);
      expect(compared.maxDepthDiff).toBeLessThan(1e-3);
    }
  });

  it('writes an ONNX file that declares opset 13 and its inputs and outputs with shapes', async () => {
    const { roundId } = await roundWithRandomWeights('tiny', 'corda', 64, 32);
    const outDir = join(project.dir, 'exports', 'opset');
    await exportModel(planModelExport(project.db, { roundId, format: 'onnx', outDir }));
    const model = decodeOnnxModel(readFileSync(join(outDir, 'model.onnx')));
    expect(model.opsetImport.map((o) => [o.domain ?? '', o.version])).toEqual([['', 13]]);
    expect(model.graph.input[0]!.type.tensorType.shape.dim.map((d) => d.dimValue)).toEqual([1, 3, 32, 64]);
    expect(model.graph.output.map((o) => o.name)).toEqual(['seg', 'depth_src', 'depth_tgt']);
    expect(JSON.parse(model.metadataProps!.find((p) => p.key === 'model_card')!.value).input.layout).toBe('NCHW');
  });

  it('refuses a folder that is not empty, a round that has not finished, and leaves the folder as it was', async () => {
    const { roundId } = await roundWithRandomWeights('tiny', 'dacs', 64, 32);
    const full = join(project.dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    expect(() => planModelExport(project.db, { roundId, format: 'onnx', outDir: full })).toThrow(new UserError(`The folder ${full} is not empty; choose a new or empty folder so that nothing in it is overwritten.`));
    expect(readdirSync(full)).toEqual(['keep.txt']);
    updateRound(project.db, roundId, { status: 'cancelled' });
    expect(() => planModelExport(project.db, { roundId, format: 'onnx', outDir: join(project.dir, 'new') })).toThrow(/Round \d+ has not finished \(status: cancelled\)/);
    updateRound(project.db, roundId, { status: 'done' });
    // An existing empty folder is fine.
    mkdirSync(join(project.dir, 'empty'));
    await exportModel(planModelExport(project.db, { roundId, format: 'tfjs', outDir: join(project.dir, 'empty') }));
    expect(existsSync(join(project.dir, 'empty', 'model.json'))).toBe(true);
  });

  it('refuses a read-only parent folder with one sentence, before the job and inside it, and writes nothing', async (ctx) => {
    const { roundId } = await roundWithRandomWeights('tiny', 'dacs', 64, 32);
    const parent = join(project.dir, 'read-only');
    mkdirSync(parent);
    const outDir = join(parent, 'model');
    const planned = planModelExport(project.db, { roundId, format: 'onnx', outDir });
    chmodSync(parent, 0o555);
    // root ignores permission bits; the immutable attribute stops root too (where the file system has it).
    const immutable = process.getuid?.() === 0 && spawnSync('chattr', ['+i', parent]).status === 0;
    if (process.getuid?.() === 0 && !immutable) ctx.skip();
    try {
      const message = `Cannot write to ${parent} (permission denied); choose a folder you can write to.`;
      expect(() => planModelExport(project.db, { roundId, format: 'onnx', outDir })).toThrow(message);
      // Made read-only after the job was planned: the write itself is refused the same way.
      await expect(exportModel(planned)).rejects.toThrow(message);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      if (immutable) spawnSync('chattr', ['-i', parent]);
      chmodSync(parent, 0o755);
    }
  });

  it('a disk that fills mid-write: one sentence, no half-written folder, no temporary folder', async () => {
    const { roundId } = await roundWithRandomWeights('tiny', 'corda', 64, 32);
    const parent = join(project.dir, 'full-disk', 'deeper');
    const outDir = join(parent, 'model');
    const plan = planModelExport(project.db, { roundId, format: 'tfjs', outDir });
    process.env.CORDA_FAULT_EXPORT_ENOSPC_AFTER_BYTES = '100000';
    try {
      await expect(exportModel(plan)).rejects.toThrow(new RegExp(`^The disk holding ${parent} is full \\(the export needs about [\\d.]+ MB\\); free some space or choose another disk, then export again\\.$`));
    } finally {
      delete process.env.CORDA_FAULT_EXPORT_ENOSPC_AFTER_BYTES;
    }
    expect(existsSync(join(project.dir, 'full-disk'))).toBe(false); // the folders it created are gone too
  });

  it('runs as an export job in the service, with progress per step, and reports failures as jobFinished', async () => {
    const { roundId } = await roundWithRandomWeights('tiny', 'dacs', 64, 32);
    const service = createService({ projectDir: project.projectDir, transport: 'cli' });
    try {
      const events: { event: string; phase?: string; status?: string; error?: string }[] = [];
      service.onEvent((m) => events.push(m.event === 'jobProgress' ? { event: m.event, phase: m.payload.phase } : m.event === 'jobFinished' ? { event: m.event, status: m.payload.status, error: m.payload.error } : { event: m.event }));
      const finished = () => new Promise<void>((resolve) => service.onEvent((m) => m.event === 'jobFinished' && resolve()));
      const outDir = join(project.dir, 'service-export');
      let done = finished();
      const { jobId } = await service.call('exportModel', { roundId, format: 'onnx', outDir });
      expect(jobId).toMatch(/-/);
      await done;
      expect(events.at(-1)).toEqual({ event: 'jobFinished', status: 'done', error: undefined });
      expect(events.filter((e) => e.event === 'jobProgress').map((e) => e.phase)).toEqual(expect.arrayContaining(['building graph', 'writing weights', 'writing card']));
      expect(readdirSync(outDir).sort()).toEqual(['model-card.json', 'model.onnx']);
      await expect(service.call('exportModel', { roundId, format: 'onnx', outDir })).rejects.toThrow(/is not empty/);
      await expect(service.call('exportModel', { roundId: 999, format: 'onnx', outDir: join(project.dir, 'x') })).rejects.toThrow('There is no round 999 in this project.');
      done = finished();
      const cancelled = await service.call('exportModel', { roundId, format: 'tfjs', outDir: join(project.dir, 'service-cancelled') });
      await service.call('cancelJob', cancelled);
      await done;
      expect(events.at(-1)).toMatchObject({ event: 'jobFinished', status: 'cancelled' });
      expect(existsSync(join(project.dir, 'service-cancelled'))).toBe(false);
      process.env.CORDA_FAULT_EXPORT_ENOSPC_AFTER_BYTES = '10';
      done = finished();
      await service.call('exportModel', { roundId, format: 'tfjs', outDir: join(project.dir, 'service-full') });
      await done;
      expect(events.at(-1)).toMatchObject({ event: 'jobFinished', status: 'failed', error: expect.stringMatching(/^The disk holding .* is full/) });
      expect(existsSync(join(project.dir, 'service-full'))).toBe(false);
    } finally {
      delete process.env.CORDA_FAULT_EXPORT_ENOSPC_AFTER_BYTES;
      service.close();
    }
  });

  it('corda export-model: JSON on success, one line and exit 1 on a refusal, exit 2 on a usage mistake', async () => {
    const { roundId } = await roundWithRandomWeights('tiny', 'corda', 64, 32);
    const cli = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', '..', 'cli', 'run.ts'), 'export-model', '--project', project.projectDir];
    const corda = (args: string[]) => spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8' });
    const outDir = join(project.dir, 'cli-export');
    const ok = corda(['--round', String(roundId), '--format', 'onnx', '--out', outDir, '--json']);
    expect(ok.status).toBe(0);
    const result = JSON.parse(ok.stdout);
    expect(result).toMatchObject({ roundId, format: 'onnx', outDir, files: [{ name: 'model-card.json' }, { name: 'model.onnx' }] });
    expect(ok.stderr).toMatch(/export-model writing weights: \d+\/\d+/);
    const again = corda(['--round', String(roundId), '--format', 'onnx', '--out', outDir]);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(`corda: The folder ${outDir} is not empty; choose a new or empty folder so that nothing in it is overwritten.\n`);
    const usage = corda(['--round', String(roundId), '--format', 'keras', '--out', join(project.dir, 'cli-usage')]);
    expect([usage.status, usage.stderr]).toEqual([2, 'corda: --format must be tfjs or onnx, got "keras".\n']);
  });
});
