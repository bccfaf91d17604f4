import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { initBackend } from './backend';
import { CordaNetwork, MOBILENETV2_BLOCKS, MOBILENETV2_STEM, PRESETS } from './network';
import { describePretrainedReport, kerasWeightToParam, loadPretrainedEncoder } from './pretrained';
import * as tf from './tf';

const root = mkdtempSync(join(tmpdir(), 'corda-pretrained-'));
let counter = 0;

beforeAll(async () => {
  await initBackend('wasm');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

interface FakeWeight {
  name: string;
  shape: number[];
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Distinct, recognisable values per weight. */
function valuesFor(index: number, shape: number[]): Float32Array {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (index + 1) * 1000 + i * 0.25;
  return data;
}

/**
 * Writes what the tensorflowjs converter writes for a Keras model: model.json and the group's bytes split into
 * `shards` files (cut at arbitrary byte offsets, as the converter does at its shard size).
 */
function writeLayersModel(
  weights: FakeWeight[],
  options: { shards?: number; cutBytes?: number; json?: (manifest: Record<string, unknown>) => unknown } = {},
): { dir: string; values: Map<string, Float32Array> } {
  const dir = join(root, `model-${counter++}`);
  const values = new Map<string, Float32Array>();
  const parts = weights.map((w, i) => {
    const v = valuesFor(i, w.shape);
    values.set(w.name, v);
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  });
  let bytes = Buffer.concat(parts);
  if (options.cutBytes) bytes = bytes.subarray(0, bytes.length - options.cutBytes);
  const shards = options.shards ?? 1;
  const paths = Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}.bin`);
  const step = Math.ceil(bytes.length / shards);
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'keras v2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { class_name: 'Functional', config: { name: 'mobilenetv2_1.00_224', layers: [] }, keras_version: '2.15.0', backend: 'tensorflow' },
    weightsManifest: [{ paths, weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  paths.forEach((p, i) => writeFileSync(join(dir, p), bytes.subarray(i * step, (i + 1) * step)));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(options.json ? options.json(modelJson) : modelJson));
  return { dir, values };
}

function snapshot(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f}:${s.size}:${s.mtimeMs}`;
    });
}

async function expectUserError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const message = (err as Error).message;
  expect(message).toMatch(pattern);
  // One sentence: no line breaks, ends with a full stop.
  expect(message).not.toContain('\n');
  expect(message.endsWith('.')).toBe(true);
}

const BN = ['gamma', 'beta', 'moving_mean', 'moving_variance'];
const FAKE: FakeWeight[] = [
  { name: 'mobilenetv2_1.00_224/Conv1/kernel', shape: [3, 3, 3, 32] },
  ...BN.map((k) => ({ name: `mobilenetv2_1.00_224/bn_Conv1/${k}`, shape: [32] })),
  { name: 'mobilenetv2_1.00_224/block_1_depthwise/depthwise_kernel', shape: [3, 3, 96, 1] },
  { name: 'expanded_conv_project/kernel', shape: [1, 1, 32, 16] },
  // Wrong shape: block_2_project maps 144 → 24 channels.
  { name: 'block_2_project/kernel', shape: [1, 1, 144, 32] },
  // The classifier's last conv, which the truncated encoder has no place for.
  { name: 'Conv_1/kernel', shape: [1, 1, 4, 8] },
];

describe('kerasWeightToParam', () => {
  it('maps the last two path segments of Keras weight names to encoder parameters', () => {
    expect(kerasWeightToParam('Conv1/kernel')).toBe('enc.Conv1.w');
    expect(kerasWeightToParam('mobilenetv2_1.00_224/block_3_depthwise/depthwise_kernel')).toBe('enc.block_3_depthwise.dw');
    expect(kerasWeightToParam('bn_Conv1/moving_variance:0')).toBe('enc.bn_Conv1.var');
    expect(kerasWeightToParam('block_5_expand_BN/gamma')).toBe('enc.block_5_expand_BN.scale');
    expect(kerasWeightToParam('predictions/bias')).toBe('enc.predictions.b');
    expect(kerasWeightToParam('kernel')).toBeNull();
    expect(kerasWeightToParam('Conv1/recurrent_kernel')).toBeNull();
  });
});

describe('loadPretrainedEncoder', () => {
  it('loads matching weights from two shards and reports loaded, mismatched, unused and missing exactly', async () => {
    const { dir, values } = writeLayersModel(FAKE, { shards: 2 });
    const before = snapshot(dir);
    const net = new CordaNetwork(PRESETS.small, 'corda', 1).build();
    const untouched = Array.from(await net.params.vars.get('enc.block_2_project.w')!.data());
    const report = await loadPretrainedEncoder(net, dir);

    expect(report.loaded).toEqual([
      'enc.Conv1.w',
      'enc.bn_Conv1.scale',
      'enc.bn_Conv1.offset',
      'enc.bn_Conv1.mean',
      'enc.bn_Conv1.var',
      'enc.block_1_depthwise.dw',
      'enc.expanded_conv_project.w',
    ]);
    expect(report.shapeMismatch).toEqual([{ name: 'enc.block_2_project.w', weight: 'block_2_project/kernel', expected: [1, 1, 144, 24], found: [1, 1, 144, 32] }]);
    expect(report.unused).toEqual(['Conv_1/kernel']);
    const encoder = [...net.params.specs.keys()].filter((n) => n.startsWith('enc.'));
    expect(report.missing).toHaveLength(encoder.length - 8);
    expect(report.missing).toContain('enc.block_12_project_BN.var');
    expect(report.missing).not.toContain('enc.Conv1.w');
    expect(report.missing).not.toContain('enc.block_2_project.w');
    expect(report.missing.every((n) => n.startsWith('enc.'))).toBe(true);
    expect(report.modelName).toBe('mobilenetv2_1.00_224');
    expect(report.notes.join(' ')).toMatch(/\[-1, 1\]/);

    const fileName = new Map(FAKE.map((w) => [kerasWeightToParam(w.name)!, w.name]));
    for (const param of report.loaded) {
      const v = net.params.vars.get(param)!;
      expect(Array.from(await v.data()), param).toEqual(Array.from(values.get(fileName.get(param)!)!));
    }
    // The mismatched weight keeps its initialisation; the folder is left exactly as it was.
    expect(Array.from(await net.params.vars.get('enc.block_2_project.w')!.data())).toEqual(untouched);
    expect(snapshot(dir)).toEqual(before);
    const lines = describePretrainedReport(report);
    expect(lines[0]).toMatch(/loaded 7 tensors, 1 shape mismatch, 1 unused/);
    net.dispose();
  });

  it('matches a Keras MobileNetV2 (tfjs-layers, Keras layer names and padding) saved as a LayersModel', async () => {
    const [h, w] = [41, 56];
    const keras = kerasMobileNetV2(h, w);
    const artifacts = await saveArtifacts(keras);
    const dir = join(root, `layers-${counter++}`);
    mkdirSync(dir, { recursive: true });
    const weightData = artifacts.weightData as ArrayBuffer | ArrayBuffer[];
    const bytes = Array.isArray(weightData) ? Buffer.concat(weightData.map((b) => Buffer.from(b))) : Buffer.from(weightData);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), bytes);
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({ format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }] }),
    );

    const net = new CordaNetwork(PRESETS.small, 'dacs', 9).build();
    const report = await loadPretrainedEncoder(net, dir);
    expect(report.shapeMismatch).toEqual([]);
    expect(report.unused).toEqual([]);
    expect(report.missing).toEqual([]);
    expect(report.loaded).toHaveLength(195);
    expect(report.modelName).toBe('mobilenetv2_1.00_224');

    const [ours, theirs] = tf.tidy(() => {
      const x = tf.randomUniform([1, h, w, 3], 0, 255, 'float32', 11) as tf.Tensor4D;
      const a = net.features(x, { training: false });
      const b = keras.predict(tf.sub(tf.div(x, 127.5), 1)) as tf.Tensor4D;
      return [a, b];
    });
    expect(ours!.shape).toEqual([1, 3, 4, 96]);
    expect(theirs!.shape).toEqual(ours!.shape);
    const a = await ours!.data();
    const b = await theirs!.data();
    const scale = Math.max(...Array.from(b, Math.abs));
    expect(scale).toBeGreaterThan(0);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst / scale).toBeLessThan(1e-5);
    tf.dispose([ours!, theirs!]);
    keras.dispose();
    net.dispose();
  });

  it('refuses what it cannot load with one-sentence UserErrors', async () => {
    const net = new CordaNetwork(PRESETS.small, 'dacs', 1).build();
    await expectUserError(loadPretrainedEncoder(net, join(root, 'no-such-folder')), /does not exist/);
    const empty = join(root, `empty-${counter++}`);
    mkdirSync(empty, { recursive: true });
    await expectUserError(loadPretrainedEncoder(net, empty), /has no model\.json/);

    const missingShard = writeLayersModel(FAKE, { shards: 2 });
    rmSync(join(missingShard.dir, 'group1-shard2of2.bin'));
    await expectUserError(loadPretrainedEncoder(net, missingShard.dir), /group1-shard2of2\.bin .* is missing/);

    const truncated = writeLayersModel(FAKE, { cutBytes: 6 });
    await expectUserError(loadPretrainedEncoder(net, truncated.dir), /truncated/);

    const notLayers = writeLayersModel(FAKE, { json: () => ({ hello: 'world' }) });
    await expectUserError(loadPretrainedEncoder(net, notLayers.dir), /not a tfjs LayersModel/);
    const graph = writeLayersModel(FAKE, { json: (m) => ({ ...m, format: 'graph-model', modelTopology: { node: [] } }) });
    await expectUserError(loadPretrainedEncoder(net, graph.dir), /graph model/);
    const garbage = writeLayersModel(FAKE);
    writeFileSync(join(garbage.dir, 'model.json'), '{"modelTopology": ');
    await expectUserError(loadPretrainedEncoder(net, garbage.dir), /not valid JSON/);

    const quantised = writeLayersModel(FAKE, {
      json: (m) => {
        const manifest = m.weightsManifest as { weights: Record<string, unknown>[] }[];
        manifest[0]!.weights[0]!.quantization = { dtype: 'uint8', scale: 0.1, min: -1 };
        return m;
      },
    });
    await expectUserError(loadPretrainedEncoder(net, quantised.dir), /quantised weights \(uint8 for mobilenetv2_1\.00_224\/Conv1\/kernel\)/);
    const float16 = writeLayersModel(FAKE, {
      json: (m) => {
        (m.weightsManifest as { weights: Record<string, unknown>[] }[])[0]!.weights[1]!.dtype = 'float16';
        return m;
      },
    });
    await expectUserError(loadPretrainedEncoder(net, float16.dir), /dtype float16: only float32/);

    const outside = writeLayersModel(FAKE, {
      json: (m) => {
        (m.weightsManifest as { paths: string[] }[])[0]!.paths = ['../elsewhere.bin'];
        return m;
      },
    });
    await expectUserError(loadPretrainedEncoder(net, outside.dir), /outside its folder/);

    const unrelated = writeLayersModel([{ name: 'dense/kernel', shape: [4, 2] }, { name: 'Conv1/kernel', shape: [3, 3, 3, 16] }]);
    const before = Array.from(await net.params.vars.get('enc.Conv1.w')!.data());
    await expectUserError(loadPretrainedEncoder(net, unrelated.dir), /No weight .* fits the small encoder: of 2 weights, 1 matched a layer name but not its shape/);
    expect(Array.from(await net.params.vars.get('enc.Conv1.w')!.data())).toEqual(before);

    const tiny = new CordaNetwork(PRESETS.tiny, 'dacs', 1).build();
    const ok = writeLayersModel(FAKE);
    await expectUserError(loadPretrainedEncoder(tiny, ok.dir), /tiny preset trains its encoder from scratch/);
    tiny.dispose();
    net.dispose();
  });
});

/**
 * keras.applications MobileNetV2 (alpha 1.0) through block_12, rebuilt layer by layer in tfjs-layers with the
 * Keras layer names and Keras's explicit stride-2 padding (ZeroPadding2D(correct_pad) + 'valid'), with random
 * weights and batch-norm statistics.
 */
function kerasMobileNetV2(h: number, w: number): tf.LayersModel {
  const input = tf.input({ shape: [h, w, 3] });
  const bn = (x: tf.SymbolicTensor, name: string) => tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name }).apply(x) as tf.SymbolicTensor;
  const relu6 = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ maxValue: 6, name }).apply(x) as tf.SymbolicTensor;
  const correctPad = (x: tf.SymbolicTensor, name: string) => {
    const [, ph, pw] = x.shape as number[];
    return tf.layers.zeroPadding2d({ padding: [[ph! % 2, 1], [pw! % 2, 1]], name }).apply(x) as tf.SymbolicTensor;
  };
  let x = correctPad(input, 'Conv1_pad');
  x = tf.layers.conv2d({ filters: MOBILENETV2_STEM, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'Conv1' }).apply(x) as tf.SymbolicTensor;
  x = relu6(bn(x, 'bn_Conv1'), 'Conv1_relu');
  MOBILENETV2_BLOCKS.forEach((block, i) => {
    const prefix = i === 0 ? 'expanded_conv_' : `block_${i}_`;
    const inCh = x.shape[3] as number;
    let y = x;
    if (i > 0) {
      y = tf.layers.conv2d({ filters: inCh * block.expansion, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` }).apply(y) as tf.SymbolicTensor;
      y = relu6(bn(y, `${prefix}expand_BN`), `${prefix}expand_relu`);
    }
    if (block.stride === 2) y = correctPad(y, `${prefix}pad`);
    y = tf.layers
      .depthwiseConv2d({ kernelSize: 3, strides: block.stride, padding: block.stride === 1 ? 'same' : 'valid', useBias: false, name: `${prefix}depthwise` })
      .apply(y) as tf.SymbolicTensor;
    y = relu6(bn(y, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
    y = tf.layers.conv2d({ filters: block.out, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` }).apply(y) as tf.SymbolicTensor;
    y = bn(y, `${prefix}project_BN`);
    x = block.stride === 1 && inCh === block.out ? (tf.layers.add({ name: `${prefix}add` }).apply([x, y]) as tf.SymbolicTensor) : y;
  });
  const model = tf.model({ inputs: input, outputs: x, name: 'mobilenetv2_1.00_224' });
  let seed = 100;
  const randomised = model.weights.map((v) => {
    const name = v.originalName;
    const shape = v.shape as number[];
    seed++;
    if (name.endsWith('/gamma')) return tf.randomUniform(shape, 0.5, 1.5, 'float32', seed);
    if (name.endsWith('/moving_variance')) return tf.randomUniform(shape, 0.5, 2, 'float32', seed);
    if (name.endsWith('/beta') || name.endsWith('/moving_mean')) return tf.randomNormal(shape, 0, 0.1, 'float32', seed);
    const fanIn = name.endsWith('/depthwise_kernel') ? shape[0]! * shape[1]! : shape[0]! * shape[1]! * shape[2]!;
    return tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed);
  });
  model.setWeights(randomised);
  tf.dispose(randomised);
  return model;
}

async function saveArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}
