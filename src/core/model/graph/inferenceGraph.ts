// The inference graph of a CordaNetwork, walked layer by layer in the order and with the parameter names of
// network.ts, with a round's weights: batch norm folded into the convolution before it (moving statistics, as
// in inference), atrous convolutions as dilated ones, and the workbench's own prediction steps around it (pad
// the normalised image to a multiple of 16, upsample every output, crop back), so that an export reproduces
// predictSample. Every inference parameter of the checkpoint must be used; a parameter left over means
// network.ts changed without this walk, and the export stops instead of writing a wrong model.
import { METHOD_TRAITS, UserError } from '../../../shared/api';
import { NUM_CLASSES } from '../../../shared/labels';
import type { TensorEntry } from '../checkpoint';
import { KERAS_BN_EPSILON, MOBILENETV2_BLOCKS, MOBILENETV2_STEM, type Method, type Preset } from '../network';
import type { Activation, GraphOp, GraphOutput, InferenceGraph, Shape, Weight } from './graph';

/** predictSample pads each side of the image to a multiple of this before the forward pass. */
export const PREDICT_PAD_MULTIPLE = 16;
const BN_EPSILON = 1e-5;
/** Deep-supervision heads: trained, never used for prediction. */
const TRAINING_ONLY = /^head\.(seg_init|depth_src_init|depth_tgt_init)\./;

interface Tensor {
  name: string;
  shape: Shape;
}

export interface GraphRequest {
  preset: Preset;
  method: Method;
  /** The student's parameters by network name (checkpoint names without `student/`). */
  params: ReadonlyMap<string, TensorEntry>;
  /** The size the workbench predicts at (the working size of the target images). */
  width: number;
  height: number;
  /** The round's depth scale: the network multiplies its depth heads' outputs by it; the graph folds it into their weights. */
  depthScale?: number;
}

export function buildInferenceGraph(request: GraphRequest): InferenceGraph {
  return new GraphWalk(request).build();
}

class GraphWalk {
  private readonly ops: GraphOp[] = [];
  private readonly weights = new Map<string, Weight>();
  private readonly used = new Set<string>();

  constructor(private readonly request: GraphRequest) {}

  build(): InferenceGraph {
    const { preset, method, width, height } = this.request;
    if (preset.encoderKind === 'deeplabv2-resnet101') {
      throw new UserError('Export does not cover the paper preset yet (the reference DeepLabv2 ResNet-101 network); export a tiny or small round.');
    }
    const input: Tensor = { name: 'image', shape: [height, width, 3] };
    const padH = Math.ceil(height / PREDICT_PAD_MULTIPLE) * PREDICT_PAD_MULTIPLE;
    const padW = Math.ceil(width / PREDICT_PAD_MULTIPLE) * PREDICT_PAD_MULTIPLE;
    // The app pads RGB with 0 before normalising: in the normalised input that is -mean/std per channel.
    const x =
      padH === height && padW === width
        ? input
        : this.push({ op: 'pad', name: 'image.padded', shape: [padH, padW, 3], input: input.name, bottom: padH - height, right: padW - width, value: preset.input.mean.map((m, c) => -m / preset.input.std[c]!) });
    const features = preset.encoderKind === 'mobilenetv2' ? this.mobileNetV2(x) : this.resnet(x);
    const fs = this.branch(features, 'sem');
    const outputs: GraphOutput[] = [];
    const finish = (t: Tensor, name: string, holds: string) => {
      const up = this.push({ op: 'resize', name: padH === height && padW === width ? name : `${name}.upsampled`, shape: [padH, padW, t.shape[2]], input: t.name });
      const out = up.name === name ? up : this.push({ op: 'crop', name, shape: [height, width, t.shape[2]], input: up.name });
      outputs.push({ name, shape: out.shape, holds });
    };
    const segHolds = `Semantic logits for the ${NUM_CLASSES} classes in trainId order (see "classes"): argmax over the channel axis gives each pixel's trainId, softmax its class probabilities.`;
    if (!METHOD_TRAITS[method].depth) {
      finish(this.segHead(fs, 'head.seg'), 'seg', segHolds);
    } else {
      const fd = this.branch(features, 'depth');
      const fsDistilled = this.distil(fs, fd, 'distil.to_sem');
      const fdDistilled = this.distil(fd, fs, 'distil.to_depth');
      finish(this.segHead(fsDistilled, 'head.seg'), 'seg', segHolds);
      const depth = 'inverse-depth-like values as the round regressed them (larger is nearer; 1.0 is what the training targets use for invalid or too far)';
      const scale = this.request.depthScale ?? 1;
      finish(this.conv(fdDistilled, 'head.depth_src', 1, 3, { bias: true, scale }), 'depth_src', `Depth from the source-domain head: ${depth}.`);
      finish(this.conv(fdDistilled, 'head.depth_tgt', 1, 3, { bias: true, scale }), 'depth_tgt', `Depth from the target-domain head: ${depth}; where it disagrees with depth_src the workbench marks pixels as difficult.`);
    }
    this.checkEveryParamUsed();
    return { input, ops: this.ops, weights: this.weights, outputs };
  }

  private push<T extends GraphOp>(op: T): T {
    this.ops.push(op);
    return op;
  }

  private param(name: string, shape: number[]): TensorEntry {
    const entry = this.request.params.get(name);
    if (!entry || entry.shape.join() !== shape.join()) {
      const found = entry ? `[${entry.shape.join(', ')}]` : 'nothing';
      throw new UserError(
        `The round's checkpoint does not match the ${this.request.preset.name} ${this.request.method} network (${name}: expected [${shape.join(', ')}], found ${found}); export a round trained by this version of the workbench.`,
      );
    }
    this.used.add(name);
    return entry;
  }

  private checkEveryParamUsed(): void {
    const left = [...this.request.params.keys()].filter((name) => !this.used.has(name) && !TRAINING_ONLY.test(name));
    if (left.length > 0) {
      throw new Error(`The export graph does not use ${left.slice(0, 3).join(', ')}: src/core/model/network.ts and src/core/model/graph/inferenceGraph.ts have drifted apart.`);
    }
  }

  /**
   * A convolution ('same' padding) with its own weights `${name}.w` / `${name}.b`, as network.ts's conv and atrousConv;
   * `scale` multiplies its output (folded into the weights).
   */
  private conv(x: Tensor, name: string, out: number, kernel: number, o: { stride?: number; dilation?: number; bias?: boolean; activation?: Activation; scale?: number } = {}): Tensor {
    const scaled = (data: Float32Array) => (o.scale === undefined || o.scale === 1 ? data : data.map((v) => v * o.scale!));
    const filter = this.param(`${name}.w`, [kernel, kernel, x.shape[2], out]);
    this.weights.set(`${name}.weights`, { shape: filter.shape, data: scaled(filter.data) });
    let bias: string | null = null;
    if (o.bias) {
      bias = `${name}.bias`;
      this.weights.set(bias, { shape: [out], data: scaled(this.param(`${name}.b`, [out]).data) });
    }
    return this.convOp(x, name, `${name}.weights`, bias, out, kernel, o.stride ?? 1, o.dilation ?? 1, false, o.activation ?? null);
  }

  /** A bias-free convolution (`${conv}.w`, or a depthwise `${conv}.dw`) followed by batch norm `${bn}`, folded into one. */
  private convBn(x: Tensor, conv: string, bn: string, out: number, kernel: number, stride: number, activation: Activation, o: { depthwise?: boolean; epsilon?: number } = {}): Tensor {
    const channels = x.shape[2];
    const depthwise = o.depthwise ?? false;
    const filter = depthwise ? this.param(`${conv}.dw`, [kernel, kernel, channels, 1]) : this.param(`${conv}.w`, [kernel, kernel, channels, out]);
    const [scale, offset, mean, variance] = ['scale', 'offset', 'mean', 'var'].map((k) => this.param(`${bn}.${k}`, [out]).data);
    const factor = new Float64Array(out);
    const bias = new Float32Array(out);
    for (let c = 0; c < out; c++) {
      factor[c] = scale![c]! / Math.sqrt(variance![c]! + (o.epsilon ?? BN_EPSILON));
      bias[c] = offset![c]! - mean![c]! * factor[c]!;
    }
    // The output channel is the fastest-moving index of both [k, k, in, out] and [k, k, channels, 1].
    const folded = new Float32Array(filter.data.length);
    for (let i = 0; i < folded.length; i += out) {
      for (let c = 0; c < out; c++) folded[i + c] = filter.data[i + c]! * factor[c]!;
    }
    this.weights.set(`${conv}.weights`, { shape: filter.shape, data: folded });
    this.weights.set(`${conv}.bias`, { shape: [out], data: bias });
    return this.convOp(x, conv, `${conv}.weights`, `${conv}.bias`, out, kernel, stride, 1, depthwise, activation);
  }

  private convOp(x: Tensor, name: string, filter: string, bias: string | null, out: number, kernel: number, stride: number, dilation: number, depthwise: boolean, activation: Activation): Tensor {
    const shape: Shape = [Math.ceil(x.shape[0] / stride), Math.ceil(x.shape[1] / stride), out];
    return this.push({ op: 'conv', name, shape, input: x.name, filter, bias, kernel, stride, dilation, depthwise, activation });
  }

  private add(a: Tensor, b: Tensor, name: string, activation: Activation = null): Tensor {
    return this.push({ op: 'add', name, shape: a.shape, inputs: [a.name, b.name], activation });
  }

  private residual(x: Tensor, name: string, out: number, stride: number): Tensor {
    const a = this.convBn(x, `${name}.a.conv`, `${name}.a.bn`, out, 3, stride, 'relu');
    const b = this.convBn(a, `${name}.b.conv`, `${name}.b.bn`, out, 3, 1, null);
    const shortcut = stride === 1 && x.shape[2] === out ? x : this.convBn(x, `${name}.proj.conv`, `${name}.proj.bn`, out, 1, stride, null);
    return this.add(b, shortcut, `${name}.out`, 'relu');
  }

  private resnet(x: Tensor): Tensor {
    const { encoder: widths, blocksPerStage } = this.request.preset;
    let y = this.convBn(x, 'enc.stem.conv', 'enc.stem.bn', widths[0]!, 3, 2, 'relu');
    widths.slice(1).forEach((width, i) => {
      y = this.residual(y, `enc.s${i + 1}.0`, width, 2);
      for (let b = 1; b < blocksPerStage; b++) y = this.residual(y, `enc.s${i + 1}.${b}`, width, 1);
    });
    return y;
  }

  private mobileNetV2(x: Tensor): Tensor {
    const epsilon = KERAS_BN_EPSILON;
    let y = this.convBn(x, 'enc.Conv1', 'enc.bn_Conv1', MOBILENETV2_STEM, 3, 2, 'relu6', { epsilon });
    MOBILENETV2_BLOCKS.forEach((block, i) => {
      const prefix = `enc.${i === 0 ? 'expanded_conv' : `block_${i}`}`;
      const inCh = y.shape[2];
      let h = y;
      if (block.expansion !== 1) h = this.convBn(h, `${prefix}_expand`, `${prefix}_expand_BN`, inCh * block.expansion, 1, 1, 'relu6', { epsilon });
      h = this.convBn(h, `${prefix}_depthwise`, `${prefix}_depthwise_BN`, h.shape[2], 3, block.stride, 'relu6', { epsilon, depthwise: true });
      h = this.convBn(h, `${prefix}_project`, `${prefix}_project_BN`, block.out, 1, 1, null, { epsilon });
      y = block.stride === 1 && inCh === block.out ? this.add(y, h, `${prefix}_add`) : h;
    });
    return y;
  }

  private branch(x: Tensor, name: string): Tensor {
    const c = this.request.preset.branch;
    return this.residual(this.convBn(x, `${name}.in.conv`, `${name}.in.bn`, c, 1, 1, 'relu'), `${name}.block`, c, 1);
  }

  /** F + conv3x3(G) * sigmoid(conv3x3'(G)). */
  private distil(f: Tensor, g: Tensor, name: string): Tensor {
    const c = f.shape[2];
    const message = this.conv(g, `${name}.msg`, c, 3);
    const gate = this.conv(g, `${name}.gate`, c, 3, { activation: 'sigmoid' });
    const gated = this.push({ op: 'mul', name: `${name}.gated`, shape: message.shape, inputs: [message.name, gate.name] });
    return this.add(f, gated, `${name}.out`);
  }

  /** Two atrous branches summed; only the first has a bias. */
  private segHead(f: Tensor, name: string): Tensor {
    const [r1, r2] = this.request.preset.atrous;
    const a = this.conv(f, `${name}.r${r1}`, NUM_CLASSES, 3, { dilation: r1, bias: true });
    const b = this.conv(f, `${name}.r${r2}`, NUM_CLASSES, 3, { dilation: r2 });
    return this.add(a, b, `${name}.sum`);
  }
}
