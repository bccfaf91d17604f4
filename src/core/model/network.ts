// The CorDA multi-task network (CORDA.md §1), written once against tfjs-core ops so that it runs on every
// backend: a shared encoder, a semantic branch F_S and a depth branch F_D, initial heads (deep supervision),
// the bidirectional sigmoid-gated distillation, the final semantic head (two atrous branches summed, as the
// reference code's ASPP) and two depth heads per stage (source and target). Parameters are created lazily on
// the first forward pass, in a fixed order, from a seeded PRNG.
//
// Encoders: `tiny` uses a ResNet-like encoder trained from scratch; `small` uses MobileNetV2 (alpha 1.0)
// truncated after block_12 (output stride 16, 96 channels), with the Keras layer names, so that Keras ImageNet
// weights converted to a tfjs LayersModel load into it (./pretrained.ts); `paper` is the authors' DeepLabv2
// ResNet-101 multi-task network with the reference's parameter names (./deeplabv2.ts), in its GTA or SYNTHIA variant.
import * as tf from './tf';
import { METHOD_TRAITS, type Method, type PresetName } from '../../shared/api';
import { NUM_CLASSES } from '../../shared/labels';
import { Rng } from '../random';
import { DeepLabV2MultiTask, type PaperVariant } from './deeplabv2';
import { ParamStore } from './params';
import { trainingBatchNorm, type BatchNormActivation } from './kernels/batchNormTraining';

export type { Method, PresetName };

export type EncoderKind = 'resnet' | 'mobilenetv2' | 'deeplabv2-resnet101';

/**
 * Input normalisation of RGB in [0, 255] (recorded in exports): the channels reordered as `channels` says, then
 * (x / range - mean) / std per channel, mean and std in that order and in units of x / range.
 */
export interface InputNormalisation {
  mean: [number, number, number];
  std: [number, number, number];
  /** Channel order the encoder sees; absent means 'rgb'. */
  channels?: 'rgb' | 'bgr';
  /** What x is divided by before the mean: absent means 255 (mean and std in [0, 1] units); 1 keeps raw [0, 255]. */
  range?: 255 | 1;
  /** One line for model cards and logs. */
  description: string;
}

/** ImageNet statistics (torchvision convention), used by the encoders trained from scratch. */
export const INPUT_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const INPUT_STD: [number, number, number] = [0.229, 0.224, 0.225];
export const IMAGENET_INPUT: InputNormalisation = {
  mean: INPUT_MEAN,
  std: INPUT_STD,
  description: '(x / 255 - ImageNet mean) / ImageNet std',
};
/** What Keras MobileNetV2 expects (keras.applications.mobilenet_v2.preprocess_input): x / 127.5 - 1, in [-1, 1]. */
export const KERAS_MOBILENET_INPUT: InputNormalisation = {
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
  description: 'x / 127.5 - 1 (Keras MobileNetV2 preprocess_input, inputs in [-1, 1])',
};

/** The reference DeepLab's IMG_MEAN (configs/global_vars.py): B, G, R on the raw [0, 255] scale. */
export const CAFFE_BGR_MEAN: [number, number, number] = [104.00698793, 116.66876762, 122.67891434];
/** The reference's input (data/*.py): RGB → BGR, minus IMG_MEAN, no scaling. */
export const CAFFE_BGR_INPUT: InputNormalisation = {
  mean: CAFFE_BGR_MEAN,
  std: [1, 1, 1],
  channels: 'bgr',
  range: 1,
  description: 'BGR x - (104.008, 116.669, 122.679), no scaling (the reference DeepLabv2 / CorDA input)',
};

export interface Preset {
  name: PresetName;
  encoderKind: EncoderKind;
  /**
   * resnet: stage widths; each stage halves the resolution (output stride 2^stages).
   * mobilenetv2: informative only, the widths of Conv1 and of each stage's last block, fixed by MOBILENETV2_BLOCKS.
   */
  encoder: number[];
  /** Residual blocks per stage after the first (resnet only; 0 for mobilenetv2). */
  blocksPerStage: number;
  /** Input size / encoder feature size. */
  outputStride: number;
  /** How RGB in [0, 255] is normalised before the encoder. */
  input: InputNormalisation;
  /** Channels of the task branches F_S and F_D. */
  branch: number;
  /** Dilation rates of the final semantic head's two branches (the reference ASPP keeps 6 and 12). */
  atrous: [number, number];
  /** The crop this preset is sized for. */
  crop: { width: number; height: number };
  /** deeplabv2-resnet101: the reference network's variant (its initial semantic head differs). */
  variant?: PaperVariant;
  /**
   * deeplabv2-resnet101: in training mode the backbone's batch norm normalises with batch statistics and updates its
   * running ones, as the reference code does (it calls model.train() and freezes only the affine); absent or false:
   * running statistics always (a frozen backbone).
   */
  backboneBatchStats?: boolean;
}

/**
 * MobileNetV2 inverted-residual blocks 0..12 of keras.applications (alpha 1.0): expansion t, output channels c,
 * depthwise stride s. Block 0 is Keras's `expanded_conv` (no expand layer); block 13 (stride 2, 160) and later
 * are left out, so the encoder stops at output stride 16 with 96 channels.
 */
export const MOBILENETV2_BLOCKS: readonly { expansion: number; out: number; stride: number }[] = [
  { expansion: 1, out: 16, stride: 1 },
  { expansion: 6, out: 24, stride: 2 },
  { expansion: 6, out: 24, stride: 1 },
  { expansion: 6, out: 32, stride: 2 },
  { expansion: 6, out: 32, stride: 1 },
  { expansion: 6, out: 32, stride: 1 },
  { expansion: 6, out: 64, stride: 2 },
  { expansion: 6, out: 64, stride: 1 },
  { expansion: 6, out: 64, stride: 1 },
  { expansion: 6, out: 64, stride: 1 },
  { expansion: 6, out: 96, stride: 1 },
  { expansion: 6, out: 96, stride: 1 },
  { expansion: 6, out: 96, stride: 1 },
];
/** Keras MobileNetV2 `Conv1` filters (alpha 1.0). */
export const MOBILENETV2_STEM = 32;
/** Keras MobileNetV2's BatchNormalization epsilon (the ResNet-like encoders keep 1e-5). */
export const KERAS_BN_EPSILON = 1e-3;

export const PRESETS: Record<PresetName, Preset> = {
  tiny: {
    name: 'tiny', encoderKind: 'resnet', encoder: [16, 24, 32], blocksPerStage: 1, outputStride: 8, input: IMAGENET_INPUT,
    branch: 32, atrous: [1, 2], crop: { width: 256, height: 128 },
  },
  small: {
    name: 'small', encoderKind: 'mobilenetv2', encoder: [32, 16, 24, 32, 64, 96], blocksPerStage: 0, outputStride: 16, input: KERAS_MOBILENET_INPUT,
    branch: 64, atrous: [2, 4], crop: { width: 512, height: 256 },
  },
  // encoder: the four bottleneck stages' widths (x4 out); blocksPerStage is informative ([3, 4, 23, 3] in deeplabv2.ts).
  paper: {
    name: 'paper', encoderKind: 'deeplabv2-resnet101', encoder: [64, 128, 256, 512], blocksPerStage: 0, outputStride: 8, input: CAFFE_BGR_INPUT,
    branch: 256, atrous: [6, 12], crop: { width: 512, height: 512 }, variant: 'gta',
  },
};

/** A preset with the reference network's options set (only `paper` has them; other presets are returned as they are). */
export function presetWith(name: PresetName, options: { variant?: PaperVariant; backboneBatchStats?: boolean }): Preset {
  const preset = PRESETS[name];
  if (preset.encoderKind !== 'deeplabv2-resnet101') return preset;
  return { ...preset, variant: options.variant ?? preset.variant, backboneBatchStats: options.backboneBatchStats ?? false };
}

/** The input normalisation of a preset (for model cards and exports). */
export function inputNormalisation(preset: PresetName | Preset): InputNormalisation {
  return (typeof preset === 'string' ? PRESETS[preset] : preset).input;
}

export interface NetworkOutputs {
  /** Semantic logits at crop size [B, H, W, 19]. */
  seg: tf.Tensor4D;
  segInit: tf.Tensor4D;
  /** Depth predictions (inverse-depth-like, CORDA.md §2) at crop size [B, H, W, 1]. */
  depthSrc: tf.Tensor4D | null;
  depthTgt: tf.Tensor4D | null;
  depthSrcInit: tf.Tensor4D | null;
  depthTgtInit: tf.Tensor4D | null;
}

export interface BatchNormUpdate {
  mean: tf.Variable;
  variance: tf.Variable;
  batchMean: tf.Tensor;
  batchVariance: tf.Tensor;
}

export interface ForwardOptions {
  training: boolean;
  /** Collects batch statistics in training mode; the caller applies them after the step. */
  bnUpdates?: BatchNormUpdate[];
}

export class CordaNetwork {
  readonly params: ParamStore;
  /** The reference network behind the `paper` preset; null for the others. */
  private readonly deeplab: DeepLabV2MultiTask | null;

  /**
   * @param depthScale the depth heads regress target / depthScale; their outputs are multiplied back, so every
   * depth output is in the target's units (CORDA.md §2).
   */
  constructor(
    readonly preset: Preset,
    readonly method: Method,
    seed: number,
    readonly depthScale = 1,
  ) {
    const rng = new Rng(seed);
    this.params = new ParamStore(() => rng.next());
    this.deeplab = preset.encoderKind === 'deeplabv2-resnet101' ? new DeepLabV2MultiTask(this.params, preset.variant ?? 'gta', preset.backboneBatchStats ?? false) : null;
  }

  get withDepth(): boolean {
    return METHOD_TRAITS[this.method].depth;
  }

  /** Creates every parameter by running one forward pass on a small dummy input. */
  build(): this {
    tf.tidy(() => {
      this.forward(tf.zeros([1, 32, 64, 3]), { training: false });
    });
    return this;
  }

  private conv(x: tf.Tensor4D, name: string, out: number, k: number, stride = 1, options: { bias?: boolean; head?: boolean; std?: number } = {}): tf.Tensor4D {
    const inCh = x.shape[3];
    const w = this.params.get(`${name}.w`, [k, k, inCh, out], 'weight', { head: options.head, std: options.std });
    let y = tf.conv2d(x, w as tf.Tensor4D, stride, 'same');
    if (options.bias) y = tf.add(y, this.params.get(`${name}.b`, [out], 'bias', { head: options.head })) as tf.Tensor4D;
    return y;
  }

  /** A dilated 3x3 'same' convolution as space-to-batch → conv → batch-to-space, which tfjs can differentiate. */
  private atrousConv(x: tf.Tensor4D, name: string, out: number, rate: number, options: { bias?: boolean; head?: boolean } = {}): tf.Tensor4D {
    if (rate === 1) return this.conv(x, name, out, 3, 1, options);
    const [, h, w] = x.shape;
    const extraH = (rate - (h % rate)) % rate;
    const extraW = (rate - (w % rate)) % rate;
    const blocks = tf.spaceToBatchND(x, [rate, rate], [[rate, rate + extraH], [rate, rate + extraW]]);
    const weights = this.params.get(`${name}.w`, [3, 3, x.shape[3], out], 'weight', { head: options.head });
    const convolved = tf.conv2d(blocks as tf.Tensor4D, weights as tf.Tensor4D, 1, 'valid');
    let y = tf.batchToSpaceND(convolved, [rate, rate], [[0, extraH], [0, extraW]]) as tf.Tensor4D;
    if (options.bias) y = tf.add(y, this.params.get(`${name}.b`, [out], 'bias', { head: options.head })) as tf.Tensor4D;
    return y;
  }

  /** A depthwise 'same' convolution (depth multiplier 1); the filter is `${name}.dw`, [k, k, C, 1] as Keras's. */
  private depthwise(x: tf.Tensor4D, name: string, k: number, stride: number): tf.Tensor4D {
    const w = this.params.get(`${name}.dw`, [k, k, x.shape[3], 1], 'weight', { fanIn: k * k });
    return tf.depthwiseConv2d(x, w as tf.Tensor4D, stride, 'same');
  }

  /** Batch norm, then `activation`: batch statistics in training (collected into opts.bnUpdates), running ones otherwise. */
  private batchNorm(x: tf.Tensor4D, name: string, opts: ForwardOptions, epsilon = 1e-5, activation: BatchNormActivation = 'linear'): tf.Tensor4D {
    const ch = x.shape[3];
    const scale = this.params.get(`${name}.scale`, [ch], 'bn-scale');
    const offset = this.params.get(`${name}.offset`, [ch], 'bn-offset');
    const movingMean = this.params.get(`${name}.mean`, [ch], 'bn-mean');
    const movingVar = this.params.get(`${name}.var`, [ch], 'bn-var');
    if (!opts.training) {
      const y = tf.batchNorm(x, movingMean as tf.Tensor1D, movingVar as tf.Tensor1D, offset as tf.Tensor1D, scale as tf.Tensor1D, epsilon);
      return activation === 'relu' ? tf.relu(y) : activation === 'relu6' ? (tf.relu6(y) as tf.Tensor4D) : y;
    }
    const { y, mean, variance } = trainingBatchNorm(x, scale as tf.Tensor1D, offset as tf.Tensor1D, epsilon, activation);
    opts.bnUpdates?.push({ mean: movingMean, variance: movingVar, batchMean: mean, batchVariance: variance });
    return y;
  }

  private convBnRelu(x: tf.Tensor4D, name: string, out: number, k: number, stride: number, opts: ForwardOptions): tf.Tensor4D {
    return this.batchNorm(this.conv(x, `${name}.conv`, out, k, stride), `${name}.bn`, opts, 1e-5, 'relu');
  }

  /** Basic residual block (ResNet-18 style), with a projection shortcut when the shape changes. */
  private residual(x: tf.Tensor4D, name: string, out: number, stride: number, opts: ForwardOptions): tf.Tensor4D {
    const a = this.convBnRelu(x, `${name}.a`, out, 3, stride, opts);
    const b = this.batchNorm(this.conv(a, `${name}.b.conv`, out, 3, 1), `${name}.b.bn`, opts);
    const shortcut =
      stride === 1 && x.shape[3] === out ? x : this.batchNorm(this.conv(x, `${name}.proj.conv`, out, 1, stride), `${name}.proj.bn`, opts);
    return tf.relu(tf.add<tf.Tensor4D>(b, shortcut));
  }

  private encoder(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D {
    return this.preset.encoderKind === 'mobilenetv2' ? this.mobileNetV2(x, opts) : this.resnet(x, opts);
  }

  /** Conv (no bias) → BN (Keras epsilon) with Keras names: `${name}` and `${bn}`, params `enc.<layer>.*`. */
  private kerasConvBn(x: tf.Tensor4D, name: string, bn: string, out: number, k: number, stride: number, opts: ForwardOptions, activation: BatchNormActivation = 'linear'): tf.Tensor4D {
    return this.batchNorm(this.conv(x, `enc.${name}`, out, k, stride), `enc.${bn}`, opts, KERAS_BN_EPSILON, activation);
  }

  /**
   * keras.applications MobileNetV2 (alpha 1.0) through block_12. Keras pads stride-2 convs with
   * ZeroPadding2D(correct_pad) + 'valid' — (0, 1) on even sizes, (1, 1) on odd ones — which is exactly what
   * TensorFlow's 'same' padding does for a 3x3 stride-2 kernel, so plain 'same' is used (tested).
   */
  private mobileNetV2(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D {
    let y = this.kerasConvBn(x, 'Conv1', 'bn_Conv1', MOBILENETV2_STEM, 3, 2, opts, 'relu6');
    MOBILENETV2_BLOCKS.forEach((block, i) => {
      const prefix = i === 0 ? 'expanded_conv' : `block_${i}`;
      const inCh = y.shape[3];
      let h = y;
      if (block.expansion !== 1) {
        h = this.kerasConvBn(h, `${prefix}_expand`, `${prefix}_expand_BN`, inCh * block.expansion, 1, 1, opts, 'relu6');
      }
      h = this.batchNorm(this.depthwise(h, `enc.${prefix}_depthwise`, 3, block.stride), `enc.${prefix}_depthwise_BN`, opts, KERAS_BN_EPSILON, 'relu6');
      h = this.kerasConvBn(h, `${prefix}_project`, `${prefix}_project_BN`, block.out, 1, 1, opts);
      y = block.stride === 1 && inCh === block.out ? tf.add<tf.Tensor4D>(y, h) : h;
    });
    return y;
  }

  private resnet(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D {
    const widths = this.preset.encoder;
    let y = this.convBnRelu(x, 'enc.stem', widths[0]!, 3, 2, opts);
    widths.slice(1).forEach((width, i) => {
      y = this.residual(y, `enc.s${i + 1}.0`, width, 2, opts);
      for (let b = 1; b < this.preset.blocksPerStage; b++) y = this.residual(y, `enc.s${i + 1}.${b}`, width, 1, opts);
    });
    return y;
  }

  private branch(x: tf.Tensor4D, name: string, opts: ForwardOptions): tf.Tensor4D {
    const c = this.preset.branch;
    return this.residual(this.convBnRelu(x, `${name}.in`, c, 1, 1, opts), `${name}.block`, c, 1, opts);
  }

  /** F + conv3x3(G) * sigmoid(conv3x3'(G)), both without bias (CORDA.md §1). */
  private distil(f: tf.Tensor4D, g: tf.Tensor4D, name: string): tf.Tensor4D {
    const c = f.shape[3];
    const message = this.conv(g, `${name}.msg`, c, 3, 1, { std: 0.01 });
    const gate = tf.sigmoid(this.conv(g, `${name}.gate`, c, 3, 1));
    return tf.add(f, tf.mul(message, gate)) as tf.Tensor4D;
  }

  private segHead(f: tf.Tensor4D, name: string): tf.Tensor4D {
    const [r1, r2] = this.preset.atrous;
    return tf.add<tf.Tensor4D>(
      this.atrousConv(f, `${name}.r${r1}`, NUM_CLASSES, r1, { bias: true, head: true }),
      this.atrousConv(f, `${name}.r${r2}`, NUM_CLASSES, r2, { head: true }),
    );
  }

  private depthHead(f: tf.Tensor4D, name: string): tf.Tensor4D {
    const y = this.conv(f, name, 1, 3, 1, { bias: true, head: true, std: 0.01 });
    return this.depthScale === 1 ? y : (tf.mul(y, this.depthScale) as tf.Tensor4D);
  }

  /** The preset's input normalisation of RGB in [0, 255]. */
  normalise(x: tf.Tensor4D): tf.Tensor4D {
    return normaliseInput(x, this.preset.input);
  }

  /** Encoder features [B, ceil(H / outputStride), ceil(W / outputStride), C] of RGB in [0, 255]. */
  features(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D {
    return this.encoder(this.normalise(x), opts);
  }

  /** x: RGB in [0, 255], [B, H, W, 3]. All outputs are upsampled bilinearly to H x W. */
  forward(x: tf.Tensor4D, opts: ForwardOptions): NetworkOutputs {
    if (this.deeplab) return this.referenceForward(this.deeplab, x, opts);
    const [, h, w] = x.shape;
    const features = this.features(x, opts);
    const fs = this.branch(features, 'sem', opts);
    const up = (t: tf.Tensor4D) => tf.image.resizeBilinear(t, [h, w], false, false);
    const segInit = up(this.conv(fs, 'head.seg_init', NUM_CLASSES, 1, 1, { bias: true, head: true }));
    if (!this.withDepth) {
      return { seg: up(this.segHead(fs, 'head.seg')), segInit, depthSrc: null, depthTgt: null, depthSrcInit: null, depthTgtInit: null };
    }
    const fd = this.branch(features, 'depth', opts);
    const depthSrcInit = up(this.depthHead(fd, 'head.depth_src_init'));
    const depthTgtInit = up(this.depthHead(fd, 'head.depth_tgt_init'));
    const fsDistilled = this.distil(fs, fd, 'distil.to_sem');
    const fdDistilled = this.distil(fd, fs, 'distil.to_depth');
    return {
      seg: up(this.segHead(fsDistilled, 'head.seg')),
      segInit,
      depthSrc: up(this.depthHead(fdDistilled, 'head.depth_src')),
      depthTgt: up(this.depthHead(fdDistilled, 'head.depth_tgt')),
      depthSrcInit,
      depthTgtInit,
    };
  }

  /**
   * The `paper` network: the reference's outputs upsampled bilinearly with aligned corners, as its training and
   * evaluation code (nn.Upsample(..., align_corners=True)). Its S depends on F_D through the distillation, so the
   * depth branch always runs; without depth (dacs, source-only) its outputs are left out.
   */
  private referenceForward(deeplab: DeepLabV2MultiTask, x: tf.Tensor4D, opts: ForwardOptions): NetworkOutputs {
    const [, h, w] = x.shape;
    const out = deeplab.forward(this.normalise(x), opts.training, opts.bnUpdates);
    const up = (t: tf.Tensor4D) => tf.image.resizeBilinear(t, [h, w], true, false);
    const depth = (t: tf.Tensor4D) => (this.depthScale === 1 ? up(t) : (tf.mul(up(t), this.depthScale) as tf.Tensor4D));
    const outputs: NetworkOutputs = { seg: up(out.S), segInit: up(out.initial_S), depthSrc: null, depthTgt: null, depthSrcInit: null, depthTgtInit: null };
    if (this.withDepth) {
      outputs.depthSrc = depth(out.D_src);
      outputs.depthTgt = depth(out.D);
      outputs.depthSrcInit = depth(out.initial_D_src);
      outputs.depthTgtInit = depth(out.initial_D);
    }
    return outputs;
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** `normalisation` applied to RGB in [0, 255], [B, H, W, 3]. */
export function normaliseInput(x: tf.Tensor4D, normalisation: InputNormalisation): tf.Tensor4D {
  const { mean, std, channels = 'rgb', range = 255 } = normalisation;
  const ordered = channels === 'bgr' ? (tf.reverse(x, -1) as tf.Tensor4D) : x;
  const scaled = range === 1 ? ordered : tf.div(ordered, range);
  const centred = tf.sub(scaled, mean);
  return (std.every((s) => s === 1) ? centred : tf.div(centred, std)) as tf.Tensor4D;
}
