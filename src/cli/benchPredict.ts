// `corda bench-predict`: the wait after a round, per preset: predict + difficulty (label map, second choice,
// confidence, both depth heads, difficulty against a depth target) of target images at one size, in tfjs and in
// ONNX Runtime, and the per-image work after it that both share (superpixels, PNG layers). Timed on a few images
// and extrapolated to a whole target set. A measurement, never a test; `npm run bench` prints it.
import { createOnnxPredictor } from '../core/adapt/onnxPredictor';
import { encodeLayers, tfjsPredictor, type Predictor } from '../core/adapt/predict';
import type { Sample } from '../core/adapt/data';
import { BACKEND_NAMES, describeBackend, initBackend, isBackendName } from '../core/model/backend';
import { UserError } from '../shared/api';
import { CordaNetwork, PRESETS, type PresetName } from '../core/model/network';
import { Rng } from '../core/random';
import { slicSuperpixels } from '../core/regions/superpixels';
import * as tf from '../core/model/tf';

export interface PredictBenchRow {
  preset: PresetName;
  /** 'tfjs' or 'onnxruntime'. */
  path: string;
  /** What ran it: "tfjs wasm", "ONNX Runtime 1.30.0 on the CPU (2 threads)". */
  runtime: string;
  size: string;
  timedImages: number;
  msPerImage: number | null;
  /** CPU time of the whole process per image (every thread): steadier than wall time on a shared machine. */
  cpuMsPerImage: number | null;
  /** msPerImage × images, in seconds (extrapolated from the timed images). */
  extrapolatedSeconds: number | null;
  /** Why this path did not run, or null. */
  failed: string | null;
}

export interface PredictBench {
  backend: string;
  images: number;
  size: string;
  rows: PredictBenchRow[];
  /** Superpixels and PNG layers per image (the same for both paths). */
  layersMsPerImage: number;
}

/** A network with random weights and batch-norm statistics (speed does not depend on training). */
function randomNetwork(preset: PresetName): CordaNetwork {
  const net = new CordaNetwork(PRESETS[preset], 'corda', 3).build();
  let seed = 7;
  for (const [name, v] of net.params.vars) {
    const kind = net.params.specs.get(name)!.kind;
    if (kind === 'bn-var' || kind === 'bn-scale') v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', seed++));
    else if (kind === 'bn-mean' || kind === 'bn-offset') v.assign(tf.randomUniform(v.shape, -0.3, 0.3, 'float32', seed++));
  }
  return net;
}

function syntheticSample(width: number, height: number, seed: number): Sample {
  const random = new Rng(seed);
  return {
    width,
    height,
    rgb: new Uint8Array(width * height * 3).map(() => Math.floor(random.next() * 256)),
    labels: null,
    depth: new Float32Array(width * height).map(() => 2 + random.next() * 50),
  };
}

async function timePredictor(predictor: Predictor, samples: Sample[]): Promise<{ wall: number; cpu: number }> {
  await predictor.predict(samples[0]!);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const sample of samples) await predictor.predict(sample);
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / samples.length, cpu: (used.user + used.system) / 1000 / samples.length };
}

export async function benchPredict(options: { presets: PresetName[]; width: number; height: number; images: number; timed: number; backend?: string; log: (line: string) => void }): Promise<PredictBench> {
  if (options.backend !== undefined && !isBackendName(options.backend)) throw new UserError(`Unknown backend "${options.backend}": choose one of ${BACKEND_NAMES.join(', ')}.`);
  const info = await initBackend(options.backend);
  const size = `${options.width}x${options.height}`;
  const samples = Array.from({ length: options.timed }, (_, i) => syntheticSample(options.width, options.height, i + 1));
  const rows: PredictBenchRow[] = [];
  let layersMs = 0;
  for (const preset of options.presets) {
    const net = randomNetwork(preset);
    try {
      const makers: [string, () => Promise<Predictor>][] = [
        ['tfjs', async () => tfjsPredictor(net)],
        ['onnxruntime', () => createOnnxPredictor(net, samples[0]!)],
      ];
      for (const [path, make] of makers) {
        const row: PredictBenchRow = { preset, path, runtime: '-', size, timedImages: samples.length, msPerImage: null, cpuMsPerImage: null, extrapolatedSeconds: null, failed: null };
        let predictor: Predictor | null = null;
        try {
          predictor = await make();
          row.runtime = predictor.describe;
          const timed = await timePredictor(predictor, samples);
          row.msPerImage = timed.wall;
          row.cpuMsPerImage = timed.cpu;
          row.extrapolatedSeconds = (row.msPerImage * options.images) / 1000;
        } catch (error) {
          row.failed = (error as Error).message.split('\n')[0]!;
        } finally {
          await predictor?.dispose();
        }
        rows.push(row);
        options.log(
          row.failed
            ? `${preset.padEnd(6)} ${path.padEnd(11)} not measured: ${row.failed}`
            : `${preset.padEnd(6)} ${path.padEnd(11)} ${row.msPerImage!.toFixed(0).padStart(6)} ms/img (CPU ${row.cpuMsPerImage!.toFixed(0)} ms) at ${size} (${row.runtime}), ${options.images} images ≈ ${(row.extrapolatedSeconds! / 60).toFixed(1)} min (extrapolated from ${samples.length})`,
        );
      }
      if (layersMs === 0) {
        const prediction = await tfjsPredictor(net).predict(samples[0]!);
        const layers = (sample: Sample) => encodeLayers({ id: 1, width: sample.width, height: sample.height }, prediction, slicSuperpixels(sample.rgb, sample.width, sample.height));
        layers(samples[0]!);
        const started = performance.now();
        for (const sample of samples) layers(sample);
        layersMs = (performance.now() - started) / samples.length;
        options.log(`superpixels + PNG layers (both paths): ${layersMs.toFixed(0)} ms/img`);
      }
    } finally {
      net.dispose();
    }
  }
  return { backend: describeBackend(info), images: options.images, size, rows, layersMsPerImage: layersMs };
}
