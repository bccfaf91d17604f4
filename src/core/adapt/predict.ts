// After a round: predict every target image and store its layers (label map, second choice, confidence,
// difficulty, both depth heads, SLIC superpixels of the input) with a per-image difficulty score and its
// hardest superpixels as review regions; evaluate against ground truth at ground-truth resolution
// (logits upsampled bilinearly), 19/16/13-class mIoU. Tensors are read asynchronously only.
import { encode } from 'fast-png';
import { containedPath, readDatasetFile } from '../datasets/assets';
import { readTrainIds } from '../datasets/labelsIO';
import { accumulate, computeMetrics, createConfusion, type ConfusionMatrix, type Metrics } from '../eval';
import * as tf from '../model/tf';
import type { CordaNetwork } from '../model/network';
import type { Db } from '../store/db';
import type { StoredImage } from '../store/datasetsRepo';
import { saveLayers, type LayerWrite } from '../store/roundsRepo';
import { imageRegions } from '../regions/imageRegions';
import { slicSuperpixels, type Superpixels } from '../regions/superpixels';
import { difficultyMap } from './losses';
import type { RoundConfig } from './config';
import { loadSample, type Sample } from './data';
import { createOnnxPredictor, loadOnnxRuntime, type OrtModule } from './onnxPredictor';
import type { Prediction, Predictor } from './prediction';

export type { Prediction, Predictor } from './prediction';

export interface RoundMetrics extends Metrics {
  /** Images with ground truth that were evaluated (every split). */
  evaluatedImages: number;
  /** The same on the val split alone (the number papers report), or null without val ground truth. */
  val: (Metrics & { evaluatedImages: number }) | null;
}


const OUTPUT_STRIDE_PAD = 16;

/**
 * Call inside tf.tidy: the network's outputs on one decoded image padded to a multiple of the output stride,
 * and `cut`, which crops an output back to the image.
 */
function forwardPadded(net: CordaNetwork, sample: Sample) {
  const { width: w, height: h } = sample;
  const padW = Math.ceil(w / OUTPUT_STRIDE_PAD) * OUTPUT_STRIDE_PAD;
  const padH = Math.ceil(h / OUTPUT_STRIDE_PAD) * OUTPUT_STRIDE_PAD;
  const x = tf.tensor4d(Float32Array.from(sample.rgb), [1, h, w, 3]);
  const padded = tf.pad(x, [[0, 0], [0, padH - h], [0, padW - w], [0, 0]]) as tf.Tensor4D;
  const outputs = net.forward(padded, { training: false });
  const cut = (t: tf.Tensor4D) => tf.slice(t, [0, 0, 0, 0], [1, h, w, t.shape[3]]) as tf.Tensor4D;
  return { outputs, cut };
}

/** The segmentation logits of one decoded image at its own size; the caller disposes them. */
export function predictLogits(net: CordaNetwork, sample: Sample): tf.Tensor4D {
  return tf.tidy(() => {
    const { outputs, cut } = forwardPadded(net, sample);
    return cut(outputs.seg);
  });
}

/**
 * Scores one image's logits against its ground truth as the evaluation protocol does (logits upsampled
 * bilinearly to the ground truth's resolution, then argmax) and adds the pixels to each matrix.
 */
export async function accumulateAgainstGroundTruth(image: StoredImage, logits: tf.Tensor4D, matrices: ConfusionMatrix[]): Promise<void> {
  const gt = await readDatasetFile(containedPath(image.root, image.labelPath!), (file) => readTrainIds(file, image.kind));
  const labels = tf.tidy(() => tf.cast(tf.argMax(tf.image.resizeBilinear(logits, [gt.height, gt.width], false, false), -1), 'int32'));
  try {
    const predicted = await labels.data();
    for (const matrix of matrices) accumulate(matrix, gt.data, predicted);
  } finally {
    labels.dispose();
  }
}

/** Runs the network on one decoded image (padded to a multiple of the output stride, then cropped back). */
export async function predictSample(net: CordaNetwork, sample: Sample, keepLogits = false): Promise<Prediction> {
  const { width: w, height: h } = sample;
  let out!: { logits: tf.Tensor4D | null; labels: tf.Tensor; second: tf.Tensor; confidence: tf.Tensor; difficulty: tf.Tensor; depthSrc: tf.Tensor | null; depthTgt: tf.Tensor | null };
  tf.tidy(() => {
    const { outputs: o, cut } = forwardPadded(net, sample);
    const logits = cut(o.seg);
    const probs = tf.softmax(logits);
    const entropy = tf.div(tf.neg(tf.sum(tf.mul(probs, tf.log(tf.add(probs, 1e-8))), -1)), Math.log(probs.shape[3]));
    const depthSrc = o.depthSrc ? tf.squeeze(cut(o.depthSrc), [3]) : null;
    const depthTgt = o.depthTgt ? tf.squeeze(cut(o.depthTgt), [3]) : null;
    let difficulty = entropy as tf.Tensor;
    if (depthSrc && depthTgt && sample.depth) {
      const depthDifficulty = difficultyMap(depthSrc as tf.Tensor3D, depthTgt as tf.Tensor3D, tf.tensor3d(sample.depth, [1, h, w]));
      // Depth-head disagreement where depth is known, combined with the prediction's uncertainty.
      difficulty = tf.div(tf.add(depthDifficulty, entropy), 2);
    }
    const keep = <T extends tf.Tensor | null>(t: T): T => (t ? tf.keep(t) : t);
    const labels = tf.cast(tf.argMax(probs, -1), 'int32') as tf.Tensor3D;
    // Knock the winner out (probabilities are at most 1) and take the best of the rest. oneHot stays int32:
    // tfjs-wasm writes int bits into a float32 oneHot.
    const winner = tf.mul(tf.cast(tf.oneHot(labels, probs.shape[3]), 'float32'), 2);
    const second = tf.argMax(tf.sub(probs, winner), -1);
    out = {
      logits: keepLogits ? keep(logits) : null,
      labels: keep(labels),
      second: keep(second),
      confidence: keep(tf.max(probs, -1)),
      difficulty: keep(difficulty),
      depthSrc: keep(depthSrc),
      depthTgt: keep(depthTgt),
    };
  });
  try {
    return {
      width: w,
      height: h,
      labels: Uint8Array.from(await out.labels.data()),
      second: Uint8Array.from(await out.second.data()),
      confidence: (await out.confidence.data()) as Float32Array,
      difficulty: (await out.difficulty.data()) as Float32Array,
      depthSrc: out.depthSrc ? ((await out.depthSrc.data()) as Float32Array) : null,
      depthTgt: out.depthTgt ? ((await out.depthTgt.data()) as Float32Array) : null,
      logits: out.logits,
    };
  } finally {
    tf.dispose([out.labels, out.second, out.confidence, out.difficulty, out.depthSrc, out.depthTgt].filter((t): t is tf.Tensor => t !== null));
  }
}

/** Something that predicts decoded images: the network in tfjs, or the same weights in ONNX Runtime. */

export function tfjsPredictor(net: CordaNetwork): Predictor {
  return { describe: `tfjs ${tf.getBackend()}`, predict: (sample, keepLogits) => predictSample(net, sample, keepLogits), dispose: async () => undefined };
}

/**
 * ONNX Runtime where the network runs on a CPU backend (wasm, cpu) and the runtime loads (it is 2-4x faster there,
 * README "Speed"), else tfjs; `CORDA_PREDICT=tfjs` keeps tfjs. Logs one line saying which and, for tfjs, why.
 */
export async function choosePredictor(net: CordaNetwork, size: { width: number; height: number }, log: (line: string) => void, loadRuntime: () => OrtModule = loadOnnxRuntime): Promise<Predictor> {
  const backend = tf.getBackend();
  const tfjs = (why: string) => {
    log(`Predicting with tfjs ${backend}: ${why}.`);
    return tfjsPredictor(net);
  };
  if (process.env.CORDA_PREDICT === 'tfjs') return tfjs('CORDA_PREDICT=tfjs');
  if (backend !== 'wasm' && backend !== 'cpu') return tfjs('ONNX Runtime is used on the CPU backends only (wasm, cpu)');
  if (net.preset.encoderKind === 'deeplabv2-resnet101') return tfjs('the ONNX graph does not cover the paper preset yet');
  try {
    const predictor = await createOnnxPredictor(net, size, { runtime: loadRuntime() });
    log(`Predicting with ${predictor.describe}.`);
    return predictor;
  } catch (error) {
    const text = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
    return tfjs(`ONNX Runtime did not load (${text.length > 200 ? `${text.slice(0, 197)}...` : text})`);
  }
}

const png8 = (data: Uint8Array, width: number, height: number) => Buffer.from(encode({ width, height, data, channels: 1, depth: 8 }));
/**
 * round(clip(v, 0, top) · scale) per value. A plain loop: TypedArray.from with a mapping function walks an iterator
 * and calls the function per pixel, a third of a second per 1024x512 image for the four layers and their garbage.
 */
function quantise<T extends Uint8Array | Uint16Array>(values: Float32Array, top: number, scale: number, out: T): T {
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(top, Math.max(0, values[i]!)) * scale);
  return out;
}
const unit8 = (values: Float32Array) => quantise(values, 1, 255, new Uint8Array(values.length));
/** Depth targets as 16-bit PNG: value × 100, clipped to 0..65535. */
const depth16 = (values: Float32Array, width: number, height: number) =>
  Buffer.from(encode({ width, height, channels: 1, depth: 16, data: quantise(values, 655.35, 100, new Uint16Array(values.length)) }));

const png16 = (data: Uint16Array, width: number, height: number) => Buffer.from(encode({ width, height, data, channels: 1, depth: 16 }));

/**
 * An image's layers for the store, and its review regions: `superpixels` (of the RGB the network saw, at
 * the prediction's size) scored with the stored 0..255 confidence and difficulty, boxes in the image's own pixels.
 */
export function encodeLayers(image: { id: number; width: number; height: number }, p: Prediction, superpixels: Superpixels): LayerWrite {
  const score = p.difficulty.reduce((a, b) => a + b, 0) / Math.max(1, p.difficulty.length);
  const confidence = unit8(p.confidence);
  const difficulty = unit8(p.difficulty);
  const regions = imageRegions(
    { width: p.width, height: p.height, labels: p.labels, confidence, difficulty, superpixels: superpixels.labels, count: superpixels.count },
    image,
  );
  return {
    imageId: image.id,
    prediction: png8(p.labels, p.width, p.height),
    second: png8(p.second, p.width, p.height),
    confidence: png8(confidence, p.width, p.height),
    difficulty: png8(difficulty, p.width, p.height),
    depthSrc: p.depthSrc && depth16(p.depthSrc, p.width, p.height),
    depthTgt: p.depthTgt && depth16(p.depthTgt, p.width, p.height),
    superpixels: png16(superpixels.labels, p.width, p.height),
    difficultyScore: score,
    regions,
  };
}

export async function predictAndEvaluate(
  db: Db,
  roundId: number,
  net: CordaNetwork,
  images: StoredImage[],
  config: RoundConfig,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; log?: (line: string) => void } = {},
): Promise<RoundMetrics> {
  const confusion = createConfusion();
  const valConfusion = createConfusion();
  let evaluated = 0;
  let evaluatedVal = 0;
  let pending: LayerWrite[] = [];
  let predictor: Predictor | null = null;
  try {
    for (let i = 0; i < images.length; i++) {
      options.signal?.throwIfAborted();
      const image = images[i]!;
      const sample = await loadSample(image, config.targetWidth, { labels: false, depth: net.withDepth });
      // Without a log (the round worker), the line goes to stderr: stdout may carry --json output.
      predictor ??= await choosePredictor(net, sample, options.log ?? ((line) => console.error(line)));
      const prediction = await predictor.predict(sample, image.labelPath !== null);
      pending.push(encodeLayers(image, prediction, slicSuperpixels(sample.rgb, sample.width, sample.height)));
      if (prediction.logits) {
        const isVal = image.split === 'val';
        await accumulateAgainstGroundTruth(image, prediction.logits, isVal ? [confusion, valConfusion] : [confusion]).finally(() => prediction.logits!.dispose());
        if (isVal) evaluatedVal++;
        evaluated++;
      }
      if (pending.length >= 16) {
        saveLayers(db, roundId, pending);
        pending = [];
      }
      options.onProgress?.(i + 1, images.length);
    }
  } finally {
    await predictor?.dispose();
  }
  saveLayers(db, roundId, pending);
  return {
    ...computeMetrics(confusion),
    evaluatedImages: evaluated,
    val: evaluatedVal > 0 ? { ...computeMetrics(valConfusion), evaluatedImages: evaluatedVal } : null,
  };
}
