// The inference graph as a TensorFlow.js graph model: `model.json` (a GraphDef in JSON with TensorFlow op
// names that tfjs-converter executes, plus signature and weights manifest) and 4 MiB weight shards, loadable
// with tf.loadGraphModel in Node and in the browser. Layout NHWC, batch 1.
import type { GraphOp, InferenceGraph, Shape } from '../../model/graph/graph';
import type { ExportFile } from './exportFolder';

/** tfjs-converter's default shard size, so browsers fetch and cache the weights in pieces. */
const SHARD_BYTES = 4 * 1024 * 1024;

type Attr = Record<string, unknown>;
interface Node {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, Attr>;
}
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

const text = (s: string): Attr => ({ s: Buffer.from(s).toString('base64') });
const ints = (values: number[]): Attr => ({ list: { i: values.map(String) } });
const FLOAT: Attr = { type: 'DT_FLOAT' };
const INT32: Attr = { type: 'DT_INT32' };
const dims = (shape: number[]) => ({ dim: shape.map((size) => ({ size: String(size) })) });
const batched = (shape: Shape) => [1, ...shape];

const ACTIVATION_OP = { relu: 'Relu', relu6: 'Relu6', sigmoid: 'Sigmoid' } as const;

export function tfjsGraphModel(graph: InferenceGraph, meta: { generatedBy: string }): ExportFile[] {
  const nodes: Node[] = [{ name: graph.input.name, op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: dims(batched(graph.input.shape)) } } }];
  const specs: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  const constant = (name: string, shape: number[], data: Float32Array | Int32Array) => {
    const dtype = data instanceof Float32Array ? 'float32' : 'int32';
    nodes.push({ name, op: 'Const', attr: { dtype: dtype === 'float32' ? FLOAT : INT32, value: { tensor: { dtype: dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32', tensorShape: dims(shape) } } } });
    specs.push({ name, shape, dtype });
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return name;
  };
  for (const [name, w] of graph.weights) constant(name, w.shape, w.data);
  for (const op of graph.ops) nodes.push(...emit(op, constant));

  const shards: ExportFile[] = [];
  const all = Buffer.concat(chunks);
  const count = Math.max(1, Math.ceil(all.length / SHARD_BYTES));
  for (let i = 0; i < count; i++) shards.push({ name: `group1-shard${i + 1}of${count}.bin`, data: all.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES), kind: 'weights' });

  const tensorInfo = (name: string, shape: Shape) => ({ name: `${name}:0`, dtype: 'DT_FLOAT', tensorShape: dims(batched(shape)) });
  const modelJson = {
    format: 'graph-model',
    generatedBy: meta.generatedBy,
    convertedBy: null,
    signature: {
      inputs: { [graph.input.name]: tensorInfo(graph.input.name, graph.input.shape) },
      outputs: Object.fromEntries(graph.outputs.map((o) => [o.name, tensorInfo(o.name, o.shape)])),
    },
    // model.predict(x) then returns { seg, depth_src, depth_tgt } by name.
    userDefinedMetadata: { structuredOutputKeys: graph.outputs.map((o) => o.name) },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1, minConsumer: 0 } },
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: specs }],
  };
  return [{ name: 'model.json', data: Buffer.from(JSON.stringify(modelJson)), kind: 'graph' }, ...shards];
}

type Constant = (name: string, shape: number[], data: Float32Array | Int32Array) => string;

function emit(op: GraphOp, constant: Constant): Node[] {
  switch (op.op) {
    case 'conv': {
      const common = {
        T: FLOAT,
        strides: ints([1, op.stride, op.stride, 1]),
        padding: text('SAME'),
        data_format: text('NHWC'),
        dilations: ints([1, op.dilation, op.dilation, 1]),
      };
      if (op.bias) {
        // Conv + bias (+ activation) as one fused kernel, as tfjs-converter writes them.
        const fused = ['BiasAdd', ...(op.activation ? [ACTIVATION_OP[op.activation]] : [])];
        return [{
          name: op.name,
          op: op.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D',
          input: [op.input, op.filter, op.bias],
          attr: { ...common, fused_ops: { list: { s: fused.map((s) => text(s).s) } }, num_args: { i: '1' }, epsilon: { f: 0 } },
        }];
      }
      const conv: Node = { name: op.activation ? `${op.name}.linear` : op.name, op: op.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', input: [op.input, op.filter], attr: common };
      return op.activation ? [conv, { name: op.name, op: ACTIVATION_OP[op.activation], input: [conv.name], attr: { T: FLOAT } }] : [conv];
    }
    case 'add': {
      const sum: Node = { name: op.activation ? `${op.name}.linear` : op.name, op: 'AddV2', input: op.inputs, attr: { T: FLOAT } };
      return op.activation ? [sum, { name: op.name, op: ACTIVATION_OP[op.activation], input: [sum.name], attr: { T: FLOAT } }] : [sum];
    }
    case 'mul':
      return [{ name: op.name, op: 'Mul', input: op.inputs, attr: { T: FLOAT } }];
    case 'resize': {
      const size = constant(`${op.name}.size`, [2], Int32Array.of(op.shape[0], op.shape[1]));
      return [{ name: op.name, op: 'ResizeBilinear', input: [op.input, size], attr: { T: FLOAT, align_corners: { b: false }, half_pixel_centers: { b: false } } }];
    }
    case 'pad': {
      // pad(x - v, 0) + v: a per-channel pad value with the plain Pad op.
      const value = constant(`${op.name}.value`, [op.value.length], Float32Array.from(op.value));
      const paddings = constant(`${op.name}.paddings`, [4, 2], Int32Array.of(0, 0, 0, op.bottom, 0, op.right, 0, 0));
      return [
        { name: `${op.name}.shifted`, op: 'Sub', input: [op.input, value], attr: { T: FLOAT } },
        { name: `${op.name}.zero_padded`, op: 'Pad', input: [`${op.name}.shifted`, paddings], attr: { T: FLOAT, Tpaddings: INT32 } },
        { name: op.name, op: 'AddV2', input: [`${op.name}.zero_padded`, value], attr: { T: FLOAT } },
      ];
    }
    case 'crop': {
      const begin = constant(`${op.name}.begin`, [4], Int32Array.of(0, 0, 0, 0));
      const size = constant(`${op.name}.size`, [4], Int32Array.of(1, ...op.shape));
      return [{ name: op.name, op: 'Slice', input: [op.input, begin, size], attr: { T: FLOAT, Index: INT32 } }];
    }
  }
}
