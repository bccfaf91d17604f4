// The ONNX Runtime prediction path against the tfjs one (predictSample) on the same network and image: random
// weights with random batch-norm statistics and offsets (so that folding and every head matter), an image with
// structure and noise, sizes that need padding to the output stride.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../model/backend';
import { CordaNetwork, PRESETS, type Method, type PresetName } from '../model/network';
import { Rng } from '../random';
import { randomNetwork } from '../testFixtures/randomNetwork';
import * as tf from '../model/tf';
import type { Sample } from './data';
import { combinedDifficulty, createOnnxPredictor, normalisedNchw } from './onnxPredictor';
import { choosePredictor, predictSample, type Prediction } from './predict';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Horizontal and vertical ramps with noise; depth from 2 to 60 with a band at 1 (the "invalid" value). */
function sample(width: number, height: number, withDepth: boolean, seed = 3): Sample {
  const random = new Rng(seed);
  const rgb = new Uint8Array(width * height * 3);
  const depth = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      rgb[p * 3] = Math.min(255, Math.round((x / width) * 200 + random.next() * 55));
      rgb[p * 3 + 1] = Math.min(255, Math.round((y / height) * 200 + random.next() * 55));
      rgb[p * 3 + 2] = Math.round(random.next() * 255);
      depth[p] = y < 4 ? 1 : 2 + random.next() * 58;
    }
  }
  return { width, height, rgb, labels: null, depth: withDepth ? depth : null };
}

function maxDiff(a: Float32Array | null, b: Float32Array | null, relative = false): number {
  expect(a === null).toBe(b === null);
  if (!a || !b) return 0;
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (relative ? Math.max(1, Math.abs(b[i]!)) : 1));
  return worst;
}

const agreement = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

async function compare(onnx: Prediction, tfjs: Prediction, label: string) {
  const labels = agreement(onnx.labels, tfjs.labels);
  const second = agreement(onnx.second, tfjs.second);
  const confidence = maxDiff(onnx.confidence, tfjs.confidence);
  const difficulty = maxDiff(onnx.difficulty, tfjs.difficulty);
  const depth = Math.max(maxDiff(onnx.depthSrc, tfjs.depthSrc, true), maxDiff(onnx.depthTgt, tfjs.depthTgt, true));
  const logits = onnx.logits && tfjs.logits ? maxDiff((await onnx.logits.data()) as Float32Array, (await tfjs.logits.data()) as Float32Array) : 0;
  expect(onnx.logits?.shape).toEqual(tfjs.logits?.shape);
  tf.dispose([onnx.logits, tfjs.logits].filter((t): t is tf.Tensor4D => t !== null));
  console.log(`${label}: labels ${(labels * 100).toFixed(3)} %, second ${(second * 100).toFixed(3)} %, max |Δ| confidence ${confidence.toExponential(1)}, difficulty ${difficulty.toExponential(1)}, depth (relative) ${depth.toExponential(1)}, logits ${logits.toExponential(1)}`);
  expect([onnx.width, onnx.height]).toEqual([tfjs.width, tfjs.height]);
  expect(labels).toBeGreaterThanOrEqual(0.99);
  expect(second).toBeGreaterThanOrEqual(0.99);
  expect(confidence).toBeLessThan(1e-3);
  expect(difficulty).toBeLessThan(1e-3);
  expect(depth).toBeLessThan(1e-3);
  expect(logits).toBeLessThan(1e-3);
}

describe('ONNX Runtime prediction', () => {
  const cases: [PresetName, Method, number, number, number][] = [
    ['tiny', 'corda', 1, 100, 52], // padded to 112x64 inside the graph
    ['tiny', 'corda', 17.5, 64, 32], // the depth scale folded into the depth heads
    ['tiny', 'dacs', 1, 72, 40], // no depth heads: difficulty is the entropy
    ['small', 'corda', 1, 80, 44],
  ];
  it.each(cases)('%s %s (depth scale %d) at %ix%i gives predictSample’s labels, confidence, difficulty and depth', async (preset, method, depthScale, width, height) => {
    const net = randomNetwork(preset, method, depthScale);
    const image = sample(width, height, method === 'corda');
    const predictor = await createOnnxPredictor(net, image, { threads: 2 });
    try {
      await compare(await predictor.predict(image, true), await predictSample(net, image, true), `${preset} ${method} x${depthScale} ${width}x${height}`);
      // Without a depth target the difficulty is the entropy alone, as in predictSample; another size gets its own session.
      const other = sample(48, 32, false, 9);
      await compare(await predictor.predict(other, true), await predictSample(net, other, true), `${preset} ${method} 48x32 without depth`);
      const plain = await predictor.predict(image);
      expect(plain.logits).toBeNull();
      // More sizes than the sessions it keeps: the oldest goes, and comes back when its size does.
      for (const w of [16, 32, 48, 64]) expect((await predictor.predict(sample(w, 16, false))).labels).toHaveLength(w * 16);
      expect(Array.from((await predictor.predict(image)).labels)).toEqual(Array.from(plain.labels));
    } finally {
      await predictor.dispose();
      net.dispose();
    }
  });

  it('leaves the paper preset (no ONNX graph yet) to tfjs, saying so', async () => {
    const net = { preset: PRESETS.paper, method: 'corda' } as unknown as CordaNetwork;
    await expect(createOnnxPredictor(net, { width: 64, height: 32 })).rejects.toThrow('the ONNX graph does not cover the paper preset yet');
    const lines: string[] = [];
    expect((await choosePredictor(net, { width: 64, height: 32 }, (line) => lines.push(line))).describe).toBe('tfjs wasm');
    expect(lines).toEqual(['Predicting with tfjs wasm: the ONNX graph does not cover the paper preset yet.']);
  });

  it('choosePredictor: ONNX Runtime where it loads, else tfjs with one line saying why', async () => {
    const net = randomNetwork('tiny', 'dacs');
    const size = { width: 32, height: 16 };
    try {
      const lines: string[] = [];
      const onnx = await choosePredictor(net, size, (line) => lines.push(line));
      expect(onnx.describe).toMatch(/^ONNX Runtime 1\.30\.0 on the CPU \(\d+ threads?\)$/);
      await onnx.dispose();
      const missing = await choosePredictor(net, size, (line) => lines.push(line), () => {
        throw new Error("Cannot find module 'onnxruntime-node'\nRequire stack: ...");
      });
      expect(missing.describe).toBe('tfjs wasm');
      process.env.CORDA_PREDICT = 'tfjs';
      const forced = await choosePredictor(net, size, (line) => lines.push(line));
      expect(forced.describe).toBe('tfjs wasm');
      expect(lines).toEqual([
        `Predicting with ${onnx.describe}.`,
        "Predicting with tfjs wasm: ONNX Runtime did not load (Cannot find module 'onnxruntime-node').",
        'Predicting with tfjs wasm: CORDA_PREDICT=tfjs.',
      ]);
    } finally {
      delete process.env.CORDA_PREDICT;
      net.dispose();
    }
  });

  it('normalises RGB as the preset does, channel planes first', () => {
    const rgb = Uint8Array.of(0, 128, 255, 255, 0, 51);
    const out = normalisedNchw(rgb, 2, 1, { mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2], description: '' });
    const expected = [-1, 1, 128 / 255 / 0.25 - 1, -1, 255 / 255 / 2, 51 / 255 / 2];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    const bgr = normalisedNchw(rgb, 2, 1, { mean: [0, 0, 0], std: [1, 1, 1], channels: 'bgr', range: 1, description: '' });
    expect([...bgr]).toEqual([255, 51, 128, 0, 0, 255]);
  });

  it('difficulty: depth-head disagreement relative to the target, averaged with the entropy', () => {
    const entropy = Float32Array.of(0.2, 0.2, 0.4);
    const out = combinedDifficulty(entropy, Float32Array.of(10, 10, 5), Float32Array.of(10, 15, 50), Float32Array.of(10, 10, 10));
    expect(out[0]).toBeCloseTo(0.1, 6); // heads agree: only the entropy
    expect(out[1]).toBeCloseTo((0.5 + 0.2) / 2, 6);
    expect(out[2]).toBeCloseTo((1 + 0.4) / 2, 6); // disagreement beyond the target: clipped at 1
  });
});
