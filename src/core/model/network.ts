// The CorDA multi-task network (CORDA.md §1), written once against tfjs-core ops so that it runs on every
// backend: a shared encoder, a semantic branch F_S and a depth branch F_D, initial heads (deep supervision),
// the bidirectional sigmoid-gated distillation, the final semantic head (two atrous branches summed, as the
// reference code's ASPP) and two depth heads per stage (source and target). Parameters are created lazily on
// the first forward pass, in a fixed order, from a seeded PRNG.
import * as tf from './tf';
import { NUM_CLASSES } from '../../shared/labels';
import { Rng } from '../random';
import { ParamStore } from './params';

export type PresetName = 'tiny' | 'small' | 'paper';
export type Method = 'source-only' | 'dacs' | 'corda';

export interface Preset {
  name: PresetName;
  /** Encoder stage widths; each stage halves the resolution (output stride 2^stages). */
  encoder: number[];
  /** Residual blocks per stage after the first. */
  blocksPerStage: number;
  /** Channels of the task branches F_S and F_D. */
  branch: number;
  /** Dilation rates of the final semantic head's two branches (the reference ASPP keeps 6 and 12). */
  atrous: [number, number];
  /** The crop this preset is sized for. */
  crop: { width: number; height: number };
}

export const PRESETS: Record<PresetName, Preset> = {
  tiny: { name: 'tiny', encoder: [16, 24, 32], blocksPerStage: 1, branch: 32, atrous: [1, 2], crop: { width: 256, height: 128 } },
  small: { name: 'small', encoder: [32, 48, 64, 96], blocksPerStage: 1, branch: 64, atrous: [2, 4], crop: { width: 512, height: 256 } },
  paper: { name: 'paper', encoder: [64, 128, 256, 512], blocksPerStage: 2, branch: 256, atrous: [6, 12], crop: { width: 512, height: 512 } },
};

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

/** Input normalisation: RGB in [0, 255] → (x / 255 - mean) / std (ImageNet statistics; recorded in exports). */
export const INPUT_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const INPUT_STD: [number, number, number] = [0.229, 0.224, 0.225];

export class CordaNetwork {
  readonly params: ParamStore;

  constructor(
    readonly preset: Preset,
    readonly method: Method,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.params = new ParamStore(() => rng.next());
  }

  get withDepth(): boolean {
    return this.method === 'corda';
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

  private batchNorm(x: tf.Tensor4D, name: string, opts: ForwardOptions): tf.Tensor4D {
    const ch = x.shape[3];
    const scale = this.params.get(`${name}.scale`, [ch], 'bn-scale');
    const offset = this.params.get(`${name}.offset`, [ch], 'bn-offset');
    const movingMean = this.params.get(`${name}.mean`, [ch], 'bn-mean');
    const movingVar = this.params.get(`${name}.var`, [ch], 'bn-var');
    if (!opts.training) return tf.batchNorm(x, movingMean as tf.Tensor1D, movingVar as tf.Tensor1D, offset as tf.Tensor1D, scale as tf.Tensor1D, 1e-5);
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    opts.bnUpdates?.push({ mean: movingMean, variance: movingVar, batchMean: mean, batchVariance: variance });
    return tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, offset as tf.Tensor1D, scale as tf.Tensor1D, 1e-5);
  }

  private convBnRelu(x: tf.Tensor4D, name: string, out: number, k: number, stride: number, opts: ForwardOptions): tf.Tensor4D {
    return tf.relu(this.batchNorm(this.conv(x, `${name}.conv`, out, k, stride), `${name}.bn`, opts));
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
    return this.conv(f, name, 1, 3, 1, { bias: true, head: true, std: 0.01 });
  }

  /** x: RGB in [0, 255], [B, H, W, 3]. All outputs are upsampled bilinearly to H x W. */
  forward(x: tf.Tensor4D, opts: ForwardOptions): NetworkOutputs {
    const [, h, w] = x.shape;
    const normalised = tf.div(tf.sub(tf.div(x, 255), INPUT_MEAN), INPUT_STD) as tf.Tensor4D;
    const features = this.encoder(normalised, opts);
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

  dispose(): void {
    this.params.dispose();
  }
}
