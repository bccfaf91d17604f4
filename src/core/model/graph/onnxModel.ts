// The inference graph as one ONNX file (opset 13, IR version 7): layout NCHW, batch 1, weights inside the
// file. Convolutions get explicit pads equal to TensorFlow's 'SAME' at the export's fixed size, and the
// bilinear upsampling uses ONNX Resize's 'asymmetric' coordinates, which are TensorFlow's legacy ones.
import type { GraphOp, InferenceGraph, Shape, Weight } from './graph';
import { samePadding, shapesOf } from './graph';
import { AttributeType, DataType, encodeOnnxModel, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnxProto';

export const ONNX_OPSET = 13;
const IR_VERSION = 7;

const bytes = (data: Float32Array | BigInt64Array) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
const int = (name: string, i: number): OnnxAttribute => ({ name, type: AttributeType.INT, i });
const intList = (name: string, ints: number[]): OnnxAttribute => ({ name, type: AttributeType.INTS, ints });
const str = (name: string, s: string): OnnxAttribute => ({ name, type: AttributeType.STRING, s: Buffer.from(s) });
const nchw = ([h, w, c]: Shape) => [1, c, h, w];

/** [k, k, in, out] (tfjs) → [out, in, k, k] (ONNX); a depthwise [k, k, C, 1] → [C, 1, k, k]. */
export function toOnnxFilter(w: Weight, depthwise: boolean): { dims: number[]; data: Float32Array } {
  const [kh, kw, inCh, outCh] = w.shape as [number, number, number, number];
  const out = depthwise ? inCh : outCh;
  const inPerGroup = depthwise ? 1 : inCh;
  const data = new Float32Array(w.data.length);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inPerGroup; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          const src = depthwise ? (y * kw + x) * inCh + o : ((y * kw + x) * inCh + i) * outCh + o;
          data[((o * inPerGroup + i) * kh + y) * kw + x] = w.data[src]!;
        }
      }
    }
  }
  return { dims: [out, inPerGroup, kh, kw], data };
}

/**
 * The outputs `predictionOutputs` adds after `seg`: what predictSample derives from the logits, computed in the
 * graph. With them, every output is channels last (NHWC), `seg` included.
 */
export const PREDICTION_OUTPUTS = {
  /** [1, H, W, 2] uint8 (NHWC): the most probable class, then the second most probable. */
  classes: 'top2_class',
  /** [1, H, W, 2] (NHWC): their softmax probabilities (the first is the confidence). */
  probabilities: 'top2_prob',
  /** [1, H, W, 1]: the softmax's entropy divided by log(classes), in [0, 1]. */
  entropy: 'entropy',
} as const;

export interface OnnxModelMeta {
  producerVersion: string;
  docString: string;
  metadata: Record<string, string>;
  /** Also output the prediction's classes, probabilities and entropy (the workbench's own prediction, not exports). */
  predictionOutputs?: boolean;
}

/** The encoded model, shaped as an export folder's file. */
export interface OnnxFile {
  name: string;
  data: Uint8Array;
  kind: 'graph';
}

export function onnxModel(graph: InferenceGraph, meta: OnnxModelMeta): OnnxFile {
  const shapes = shapesOf(graph);
  const initializer: OnnxTensor[] = [];
  const node: OnnxNode[] = [];
  const known = new Set<string>();
  const constant = (name: string, dims: number[], data: Float32Array | BigInt64Array) => {
    if (!known.has(name)) {
      known.add(name);
      initializer.push({ name, dims, dataType: data instanceof Float32Array ? DataType.FLOAT : DataType.INT64, rawData: bytes(data) });
    }
    return name;
  };
  const int64 = (name: string, values: number[]) => constant(name, [values.length], BigInt64Array.from(values, BigInt));
  const activation = (kind: 'relu' | 'relu6' | 'sigmoid', input: string, output: string): OnnxNode => {
    if (kind === 'relu6') {
      const min = constant('relu6.min', [], Float32Array.of(0));
      const max = constant('relu6.max', [], Float32Array.of(6));
      return { name: output, opType: 'Clip', input: [input, min, max], output: [output] };
    }
    return { name: output, opType: kind === 'relu' ? 'Relu' : 'Sigmoid', input: [input], output: [output] };
  };

  // With the prediction's outputs, every output comes channels last, upsampled in that layout: ONNX Runtime's
  // softmax and top-k over NCHW's channel axis, and its blocked-layout resize of few channels, are several times slower.
  const channelsLast = new Set<string>();
  if (meta.predictionOutputs) {
    const outputNames = new Set(graph.outputs.map((o) => o.name));
    const cropOf = (name: string) => graph.ops.find((c) => c.op === 'crop' && c.input === name);
    for (const op of graph.ops) {
      if (op.op === 'resize' && (outputNames.has(op.name) || outputNames.has(cropOf(op.name)?.name ?? ''))) channelsLast.add(op.name);
      if (op.op === 'crop' && channelsLast.has(op.input)) channelsLast.add(op.name);
    }
  }

  const emit = (op: GraphOp) => {
    switch (op.op) {
      case 'conv': {
        const inShape = shapes.get(op.input)!;
        const filter = toOnnxFilter(graph.weights.get(op.filter)!, op.depthwise);
        const [top, bottom] = samePadding(inShape[0], op.kernel, op.stride, op.dilation);
        const [left, right] = samePadding(inShape[1], op.kernel, op.stride, op.dilation);
        const output = op.activation ? `${op.name}.linear` : op.name;
        const inputs = [op.input, constant(op.filter, filter.dims, filter.data)];
        if (op.bias) inputs.push(constant(op.bias, [op.shape[2]], graph.weights.get(op.bias)!.data));
        node.push({
          name: output,
          opType: 'Conv',
          input: inputs,
          output: [output],
          attribute: [
            intList('dilations', [op.dilation, op.dilation]),
            int('group', op.depthwise ? inShape[2] : 1),
            intList('kernel_shape', [op.kernel, op.kernel]),
            intList('pads', [top, left, bottom, right]),
            intList('strides', [op.stride, op.stride]),
          ],
        });
        if (op.activation) node.push(activation(op.activation, output, op.name));
        return;
      }
      case 'add': {
        const output = op.activation ? `${op.name}.linear` : op.name;
        node.push({ name: output, opType: 'Add', input: op.inputs, output: [output] });
        if (op.activation) node.push(activation(op.activation, output, op.name));
        return;
      }
      case 'mul':
        node.push({ name: op.name, opType: 'Mul', input: op.inputs, output: [op.name] });
        return;
      case 'resize': {
        const last = channelsLast.has(op.name);
        const input = last ? `${op.name}.nhwc` : op.input;
        if (last) node.push({ name: input, opType: 'Transpose', input: [op.input], output: [input], attribute: [intList('perm', [0, 2, 3, 1])] });
        const sizes = int64(`${op.name}.sizes`, last ? [1, ...op.shape] : nchw(op.shape));
        node.push({
          name: op.name,
          opType: 'Resize',
          input: [input, '', '', sizes],
          output: [op.name],
          attribute: [str('mode', 'linear'), str('coordinate_transformation_mode', 'asymmetric')],
        });
        return;
      }
      case 'pad': {
        // pad(x - v, 0) + v: ONNX Pad takes one constant for every channel.
        const value = constant(`${op.name}.value`, [1, op.value.length, 1, 1], Float32Array.from(op.value));
        const pads = int64(`${op.name}.pads`, [0, 0, 0, 0, 0, 0, op.bottom, op.right]);
        node.push({ name: `${op.name}.shifted`, opType: 'Sub', input: [op.input, value], output: [`${op.name}.shifted`] });
        node.push({ name: `${op.name}.zero_padded`, opType: 'Pad', input: [`${op.name}.shifted`, pads], output: [`${op.name}.zero_padded`] });
        node.push({ name: op.name, opType: 'Add', input: [`${op.name}.zero_padded`, value], output: [op.name] });
        return;
      }
      case 'crop': {
        const starts = int64(`${op.name}.starts`, [0, 0]);
        const ends = int64(`${op.name}.ends`, [op.shape[0], op.shape[1]]);
        const axes = channelsLast.has(op.name) ? int64(`${op.name}.axes.nhwc`, [1, 2]) : int64(`${op.name}.axes`, [2, 3]);
        node.push({ name: op.name, opType: 'Slice', input: [op.input, starts, ends, axes], output: [op.name] });
        return;
      }
    }
  };
  for (const op of graph.ops) emit(op);

  const valueInfo = (name: string, shape: Shape, docString?: string, elemType: number = DataType.FLOAT): OnnxValueInfo => ({
    name,
    ...(docString && { docString }),
    type: { tensorType: { elemType, shape: { dim: (channelsLast.has(name) ? [1, ...shape] : nchw(shape)).map((dimValue) => ({ dimValue })) } } },
  });
  const outputs = graph.outputs.map((o) => valueInfo(o.name, o.shape, o.holds));
  if (meta.predictionOutputs) {
    const seg = graph.outputs.find((o) => o.name === 'seg')!;
    const [height, width, classes] = seg.shape;
    const { classes: top2Class, probabilities, entropy } = PREDICTION_OUTPUTS;
    const k = int64('top2.k', [2]);
    node.push(
      { name: 'seg.probs', opType: 'Softmax', input: ['seg'], output: ['seg.probs'], attribute: [int('axis', -1)] },
      { name: 'top2', opType: 'TopK', input: ['seg.probs', k], output: [probabilities, 'top2.index'], attribute: [int('axis', -1), int('largest', 1), int('sorted', 1)] },
      { name: top2Class, opType: 'Cast', input: ['top2.index'], output: [top2Class], attribute: [int('to', DataType.UINT8)] },
      // -sum(p log p) / log(classes); predictSample takes log(p + 1e-8), which differs by less than 1e-6.
      { name: 'seg.logp', opType: 'LogSoftmax', input: ['seg'], output: ['seg.logp'], attribute: [int('axis', -1)] },
      { name: 'seg.plogp', opType: 'Mul', input: ['seg.probs', 'seg.logp'], output: ['seg.plogp'] },
      { name: 'seg.sum_plogp', opType: 'ReduceSum', input: ['seg.plogp', int64('entropy.axes', [-1])], output: ['seg.sum_plogp'], attribute: [int('keepdims', 1)] },
      { name: entropy, opType: 'Mul', input: ['seg.sum_plogp', constant('entropy.scale', [], Float32Array.of(-1 / Math.log(classes)))], output: [entropy] },
    );
    for (const name of [top2Class, probabilities, entropy]) channelsLast.add(name);
    outputs.push(
      valueInfo(top2Class, [height, width, 2], 'The most probable class, then the second.', DataType.UINT8),
      valueInfo(probabilities, [height, width, 2], 'Their softmax probabilities.'),
      valueInfo(entropy, [height, width, 1], 'Softmax entropy / log(classes).'),
    );
  }
  const data = encodeOnnxModel({
    irVersion: IR_VERSION,
    producerName: 'corda-workbench',
    producerVersion: meta.producerVersion,
    docString: meta.docString,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries(meta.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'corda',
      docString: meta.docString,
      node,
      initializer,
      input: [valueInfo(graph.input.name, graph.input.shape, 'RGB, normalised as model-card.json says, NCHW')],
      output: outputs,
    },
  });
  return { name: 'model.onnx', data, kind: 'graph' };
}
