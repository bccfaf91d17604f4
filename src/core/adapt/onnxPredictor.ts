// Prediction through ONNX Runtime on the CPU: the network's inference graph (the one model export writes, with
// batch norm folded and the padding, upsampling and cropping inside) built in memory from the network's current
// weights, plus softmax, top-2 and entropy in the graph, one session per image size. The outputs are those of
// predictSample on the same image (onnxPredictor.test.ts compares them).
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { buildInferenceGraph } from '../model/graph/inferenceGraph';
import { onnxModel, PREDICTION_OUTPUTS } from '../model/graph/onnxModel';
import type { InputNormalisation } from '../model/network';
import type { CordaNetwork } from '../model/network';
import * as tf from '../model/tf';
import type { TensorEntry } from '../model/checkpoint';
import type { Sample } from './data';
import type { Prediction, Predictor } from './prediction';

export type OrtModule = typeof Ort;

/** Sessions kept at once, one per image size. */
const MAX_SESSIONS = 4;

/** onnxruntime-node, an optional dependency: required at run time so that a build without it still starts. */
export function loadOnnxRuntime(): OrtModule {
  const req = typeof require === 'function' ? require : null;
  if (!req) throw new Error('no CommonJS require in this build');
  const name = 'onnxruntime-node';
  return req(name) as OrtModule;
}

/** The network input as the graph takes it: RGB in [0, 255] normalised as the preset says, NCHW. */
export function normalisedNchw(rgb: Uint8Array, width: number, height: number, input: InputNormalisation): Float32Array {
  const { mean, std, channels = 'rgb', range = 255 } = input;
  const pixels = width * height;
  const out = new Float32Array(pixels * 3);
  for (let c = 0; c < 3; c++) {
    const from = channels === 'bgr' ? 2 - c : c;
    const scale = 1 / (range * std[c]!);
    const shift = mean[c]! / std[c]!;
    const plane = c * pixels;
    for (let p = 0; p < pixels; p++) out[plane + p] = rgb[p * 3 + from]! * scale - shift;
  }
  return out;
}

/**
 * difficultyMap (losses.ts) on plain arrays, combined with the entropy as predictSample combines them: the depth
 * heads' disagreement relative to the depth target, clipped to [0, 1], averaged with the entropy.
 */
export function combinedDifficulty(entropy: Float32Array, depthSrc: Float32Array, depthTgt: Float32Array, depthTarget: Float32Array): Float32Array {
  const out = new Float32Array(entropy.length);
  for (let i = 0; i < out.length; i++) {
    const s = Math.min(1, Math.max(0, 1 - Math.abs(depthSrc[i]! - depthTgt[i]!) / Math.max(depthTarget[i]!, 1e-6)));
    out[i] = (1 - s + entropy[i]!) / 2;
  }
  return out;
}

export interface OnnxPredictorOptions {
  /** Threads for one operator (default: every core). */
  threads?: number;
  runtime?: OrtModule;
}

/**
 * A Predictor that runs `net` (its weights as they are now) in ONNX Runtime. Throws with the reason when the runtime
 * does not load or the network has no ONNX graph (the paper preset); the first session is made for `size`.
 */
export async function createOnnxPredictor(net: CordaNetwork, size: { width: number; height: number }, options: OnnxPredictorOptions = {}): Promise<Predictor> {
  if (net.preset.encoderKind === 'deeplabv2-resnet101') throw new Error('the ONNX graph does not cover the paper preset yet');
  const ort = options.runtime ?? loadOnnxRuntime();
  const threads = options.threads ?? availableParallelism();
  const params = new Map<string, TensorEntry>((await net.params.toEntries('')).map((e) => [e.name, e]));
  const sessions = new Map<string, Promise<Ort.InferenceSession>>();
  const session = (width: number, height: number) => {
    const key = `${width}x${height}`;
    let made = sessions.get(key);
    if (!made) {
      const graph = buildInferenceGraph({ preset: net.preset, method: net.method, params, width, height, depthScale: net.depthScale });
      const model = onnxModel(graph, { producerVersion: '', docString: '', metadata: {}, predictionOutputs: true });
      // No spinning between operators: the cores are shared with the app (and, on this kind of machine, other
      // programs); measured, two threads then cost no more CPU time than one.
      made = ort.InferenceSession.create(model.data, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      // A session that failed to start is forgotten, so the next image of this size tries again.
      made.catch(() => {
        if (sessions.get(key) === made) sessions.delete(key);
      });
      sessions.set(key, made);
      // A target set of many sizes keeps the sessions of the last few (images come in order, one at a time).
      if (sessions.size > MAX_SESSIONS) {
        const [oldestKey, oldest] = sessions.entries().next().value!;
        sessions.delete(oldestKey);
        oldest.then((s) => s.release()).catch(() => undefined);
      }
    } else {
      sessions.delete(key);
      sessions.set(key, made);
    }
    return made;
  };
  await session(size.width, size.height);

  const withDepth = net.withDepth;
  return {
    describe: `ONNX Runtime ${ort.env.versions.node} on the CPU (${threads} thread${threads === 1 ? '' : 's'})`,
    async predict(sample: Sample, keepLogits = false): Promise<Prediction> {
      const { width, height } = sample;
      const pixels = width * height;
      const input = new ort.Tensor('float32', normalisedNchw(sample.rgb, width, height, net.preset.input), [1, 3, height, width]);
      const fetches: string[] = [PREDICTION_OUTPUTS.classes, PREDICTION_OUTPUTS.probabilities, PREDICTION_OUTPUTS.entropy];
      if (withDepth) fetches.push('depth_src', 'depth_tgt');
      if (keepLogits) fetches.push('seg');
      const out = await (await session(width, height)).run({ image: input }, fetches);
      const data = (name: string) => out[name]!.data as Float32Array;
      const classes = out[PREDICTION_OUTPUTS.classes]!.data as Uint8Array;
      const probabilities = data(PREDICTION_OUTPUTS.probabilities);
      const entropy = data(PREDICTION_OUTPUTS.entropy).slice();
      const depthSrc = withDepth ? data('depth_src').slice() : null;
      const depthTgt = withDepth ? data('depth_tgt').slice() : null;
      const difficulty = depthSrc && depthTgt && sample.depth ? combinedDifficulty(entropy, depthSrc, depthTgt, sample.depth) : entropy;
      let logits: tf.Tensor4D | null = null;
      if (keepLogits) {
        const seg = data('seg');
        logits = tf.tensor4d(seg, [1, height, width, seg.length / pixels]);
      }
      const labels = new Uint8Array(pixels);
      const second = new Uint8Array(pixels);
      const confidence = new Float32Array(pixels);
      for (let p = 0; p < pixels; p++) {
        labels[p] = classes[2 * p]!;
        second[p] = classes[2 * p + 1]!;
        confidence[p] = probabilities[2 * p]!;
      }
      const prediction = { width, height, labels, second, confidence, difficulty, depthSrc, depthTgt, logits };
      for (const t of Object.values(out)) t.dispose();
      input.dispose();
      return prediction;
    },
    async dispose() {
      const made = [...sessions.values()];
      sessions.clear();
      // Every session that started is released, even where another failed to start.
      const started = await Promise.allSettled(made);
      await Promise.allSettled(started.map((s) => (s.status === 'fulfilled' ? s.value.release() : undefined)));
    },
  };
}
