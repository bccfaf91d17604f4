// What a prediction of one image holds, and what predicts it (tfjs or ONNX Runtime).
import type * as tf from '../model/tf';
import type { Sample } from './data';

export interface Prediction {
  width: number;
  height: number;
  labels: Uint8Array;
  /** The most probable class other than `labels` (the editor's "second choice"). */
  second: Uint8Array;
  confidence: Float32Array;
  difficulty: Float32Array;
  depthSrc: Float32Array | null;
  depthTgt: Float32Array | null;
  /** Logits at the working size, kept only when asked for (evaluation); the caller disposes them. */
  logits: tf.Tensor4D | null;
}

export interface Predictor {
  /** What runs the network, for the log: "ONNX Runtime 1.30.0 on the CPU (2 threads)", "tfjs wasm". */
  readonly describe: string;
  predict(sample: Sample, keepLogits?: boolean): Promise<Prediction>;
  dispose(): Promise<void>;
}
