// The inference graph both model writers emit from: a short, topologically ordered list of ops on NHWC
// tensors with named float32 weights, every op's output shape known (the export has a fixed input size).
// Batch norm is already folded into the convolution before it, and atrous convolutions are plain dilated ones.

/** [height, width, channels] of one image; the batch is always 1. */
export type Shape = [number, number, number];

export type Activation = 'relu' | 'relu6' | 'sigmoid' | null;

interface OpBase {
  /** Unique name of the op's output tensor; an output's last op carries the output's name. */
  name: string;
  shape: Shape;
}

export type GraphOp = OpBase &
  (
    | {
        op: 'conv';
        input: string;
        /** A weight: [k, k, in, out] (HWIO), or [k, k, channels, 1] when depthwise (as tfjs keeps them). */
        filter: string;
        bias: string | null;
        kernel: number;
        stride: number;
        dilation: number;
        depthwise: boolean;
        activation: Activation;
      }
    | { op: 'add'; inputs: [string, string]; activation: Activation }
    | { op: 'mul'; inputs: [string, string] }
    /** Bilinear resize with TensorFlow's legacy coordinates (align_corners = half_pixel_centers = false). */
    | { op: 'resize'; input: string }
    /** Pads `bottom` rows and `right` columns with a per-channel constant. */
    | { op: 'pad'; input: string; bottom: number; right: number; value: number[] }
    /** Keeps the top-left `shape`. */
    | { op: 'crop'; input: string }
  );

export interface Weight {
  shape: number[];
  data: Float32Array;
}

export interface GraphOutput {
  /** The op that produces it (also the output's name in both formats). */
  name: string;
  shape: Shape;
  /** What it holds, in one sentence for the model card. */
  holds: string;
}

export interface InferenceGraph {
  input: { name: string; shape: Shape };
  ops: GraphOp[];
  weights: Map<string, Weight>;
  outputs: GraphOutput[];
}

/** TensorFlow's 'SAME' padding along one axis: [before, after] (the odd pixel goes after). */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + effective - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** The shape of every tensor in the graph, the input included. */
export function shapesOf(graph: InferenceGraph): Map<string, Shape> {
  return new Map<string, Shape>([[graph.input.name, graph.input.shape], ...graph.ops.map((op) => [op.name, op.shape] as [string, Shape])]);
}
