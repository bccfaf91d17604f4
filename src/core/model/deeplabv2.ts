// The `paper` preset's network: the authors' DeepLabv2 ResNet-101 with multi-task heads (github.com/qinenergy/corda,
// model/deeplabv2_gta.py and model/deeplabv2_synthia.py), written against tfjs-core ops. Facts carried over:
// - Backbone: 7x7 stride-2 stem (padding 3), batch norm, ReLU, 3x3 stride-2 max-pool with padding 1 in ceil mode;
//   bottleneck stages [3, 4, 23, 3] of widths 64/128/256/512 (x4 out), the stride in the first 1x1 convolution
//   (Caffe style), dilation 2 and 4 in the last two stages (output stride 8), a projection shortcut in every
//   stage's first block. Its batch norm is frozen: affine not trained, running statistics always used (the
//   reference code trains in train mode, so its backbone normalises with batch statistics: backboneBatchStats).
// - Initial heads (initial_task_prediction_heads): per task S and D two bottlenecks (2048 → 64 → 256 with a
//   projection, then 256 → 64 → 256), trainable batch norm; 1x1 depth outputs D and D_src on F_D; the semantic
//   output is, for GTA, an ASPP on the 2048-channel backbone features and, for SYNTHIA, a 1x1 convolution on F_S.
// - Distillation (multi_modal_distillation): F_S' = F_S + conv(F_D) * sigmoid(attention(F_D)) and the reverse,
//   3x3 convolutions without bias.
// - Final heads S, D, D_src on F_S' and F_D': the reference's ASPP holds four 3x3 convolutions (dilation 6, 12,
//   18, 24, with bias) but its forward returns inside the loop, so only the first two are summed. The other two
//   exist as parameters (a checkpoint holds them) and never receive a gradient.
// Parameter names are the reference's state-dict keys ("layer3.22.conv2.weight", "bn1.running_mean", ...);
// convolution weights are stored in tfjs layout [kh, kw, in, out] (./torchInit.ts transposes PyTorch's when a checkpoint loads).
import { PAPER_VARIANTS, type PaperVariant } from '../../shared/api';
import * as tf from './tf';
import type { ParamStore } from './params';

export { PAPER_VARIANTS, type PaperVariant };

/** Bottleneck blocks per stage (ResNet-101). */
export const RESNET101_BLOCKS: readonly number[] = [3, 4, 23, 3];
const STAGES = [
  { planes: 64, stride: 1, dilation: 1 },
  { planes: 128, stride: 2, dilation: 1 },
  { planes: 256, stride: 1, dilation: 2 },
  { planes: 512, stride: 1, dilation: 4 },
];
const EXPANSION = 4;
/** NUM_OUTPUT in the reference: 19 classes in both variants, one channel per depth output. */
export const REFERENCE_CLASSES = 19;
/** Channels of the task features F_S and F_D (the reference's intermediate_channels). */
export const REFERENCE_BRANCH = 256;
/** The reference ASPP's convolutions, in conv2d_list order, and how many of them its forward sums. */
export const ASPP_DILATIONS: readonly number[] = [6, 12, 18, 24];
export const ASPP_SUMMED = 2;
const BN_EPSILON = 1e-5;
/** Module prefixes after the backbone: the reference's get_10x_lr_params. */
export const REFERENCE_TEN_X_MODULES: readonly string[] = ['initial_task_prediction_heads', 'multi_modal_distillation', 'heads'];

/** The reference forward's outputs, at feature resolution (input / 8, rounded as the reference rounds). */
export interface ReferenceOutputs {
  S: tf.Tensor4D;
  initial_S: tf.Tensor4D;
  /** Target-domain depth (the reference's "D"). */
  D: tf.Tensor4D;
  D_src: tf.Tensor4D;
  initial_D: tf.Tensor4D;
  initial_D_src: tf.Tensor4D;
}

interface ConvOptions {
  stride?: number;
  /** Zero padding on each side (PyTorch's `padding`); 3x3 convolutions here always pad by their dilation. */
  padding?: number;
  dilation?: number;
  bias?: boolean;
  head?: boolean;
  std?: number;
}

/** Reference classifier init: normal(0, 0.01) for its ASPP and output convolutions. */
const HEAD_STD = 0.01;

export class DeepLabV2MultiTask {
  constructor(
    private readonly params: ParamStore,
    readonly variant: PaperVariant,
    /** Training mode normalises the backbone with batch statistics (the reference code); false: running ones always. */
    readonly backboneBatchStats = false,
  ) {}

  private conv(x: tf.Tensor4D, name: string, out: number, k: number, o: ConvOptions = {}): tf.Tensor4D {
    const stride = o.stride ?? 1;
    const dilation = o.dilation ?? 1;
    const padding = o.padding ?? 0;
    const w = this.params.get(`${name}.weight`, [k, k, x.shape[3], out], 'weight', { head: o.head, std: o.std }) as tf.Tensor4D;
    let y: tf.Tensor4D;
    if (dilation > 1) {
      if (stride !== 1 || padding !== dilation || k !== 3) throw new Error(`${name}: only 3x3 stride-1 dilated convolutions padded by their dilation are supported.`);
      y = atrousSame(x, w, dilation);
    } else {
      const padded = padding > 0 ? (tf.pad(x, [[0, 0], [padding, padding], [padding, padding], [0, 0]]) as tf.Tensor4D) : x;
      y = tf.conv2d(padded, w, stride, 'valid');
    }
    if (o.bias) y = tf.add(y, this.params.get(`${name}.bias`, [out], 'bias', { head: o.head })) as tf.Tensor4D;
    return y;
  }

  /**
   * nn.BatchNorm2d under `name`. `frozen` (the backbone): affine not trainable, and running statistics even in
   * training unless backboneBatchStats.
   */
  private batchNorm(x: tf.Tensor4D, name: string, training: boolean, frozen: boolean, bnUpdates?: BatchNormStatsSink): tf.Tensor4D {
    const ch = x.shape[3];
    const scale = this.params.get(`${name}.weight`, [ch], 'bn-scale', { frozen }) as tf.Tensor1D;
    const offset = this.params.get(`${name}.bias`, [ch], 'bn-offset', { frozen }) as tf.Tensor1D;
    const runningMean = this.params.get(`${name}.running_mean`, [ch], 'bn-mean');
    const runningVar = this.params.get(`${name}.running_var`, [ch], 'bn-var');
    if (!training || (frozen && !this.backboneBatchStats)) return tf.batchNorm(x, runningMean as tf.Tensor1D, runningVar as tf.Tensor1D, offset, scale, BN_EPSILON);
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    bnUpdates?.push({ mean: runningMean, variance: runningVar, batchMean: mean, batchVariance: variance });
    return tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, offset, scale, BN_EPSILON);
  }

  /** The reference's Bottleneck (backbone, frozen batch norm) or BottleneckPad (initial heads, trainable). */
  private bottleneck(x: tf.Tensor4D, name: string, planes: number, block: { stride: number; dilation: number; projection: boolean; frozen: boolean }, run: RunContext): tf.Tensor4D {
    const bn = (t: tf.Tensor4D, n: string) => this.batchNorm(t, `${name}.${n}`, run.training, block.frozen, run.bnUpdates);
    let out = tf.relu(bn(this.conv(x, `${name}.conv1`, planes, 1, { stride: block.stride }), 'bn1'));
    out = tf.relu(bn(this.conv(out, `${name}.conv2`, planes, 3, { dilation: block.dilation, padding: block.dilation }), 'bn2'));
    out = bn(this.conv(out, `${name}.conv3`, planes * EXPANSION, 1), 'bn3');
    const shortcut = block.projection ? bn(this.conv(x, `${name}.downsample.0`, planes * EXPANSION, 1, { stride: block.stride }), 'downsample.1') : x;
    return tf.relu(tf.add<tf.Tensor4D>(out, shortcut));
  }

  /** Classifier_Module: four dilated 3x3 convolutions registered, the first ASPP_SUMMED summed. */
  private aspp(x: tf.Tensor4D, name: string, out: number): tf.Tensor4D {
    const branches = ASPP_DILATIONS.map((d, i) => ({ d, name: `${name}.conv2d_list.${i}` }));
    for (const unused of branches.slice(ASPP_SUMMED)) {
      this.params.get(`${unused.name}.weight`, [3, 3, x.shape[3], out], 'weight', { head: true, std: HEAD_STD });
      this.params.get(`${unused.name}.bias`, [out], 'bias', { head: true });
    }
    return branches
      .slice(0, ASPP_SUMMED)
      .map((b) => this.conv(x, b.name, out, 3, { dilation: b.d, padding: b.d, bias: true, head: true, std: HEAD_STD }))
      .reduce((a, b) => tf.add<tf.Tensor4D>(a, b));
  }

  /** SABlock: conv3x3(f) * sigmoid(attention3x3(f)), no bias. */
  private attentionMessage(f: tf.Tensor4D, name: string): tf.Tensor4D {
    const c = REFERENCE_BRANCH;
    const mask = tf.sigmoid(this.conv(f, `${name}.attention.0`, c, 3, { padding: 1 }));
    return tf.mul(this.conv(f, `${name}.conv`, c, 3, { padding: 1 }), mask) as tf.Tensor4D;
  }

  /** ResNet-101 features [B, h/8-ish, w/8-ish, 2048] of an input already normalised as the reference's. */
  backbone(x: tf.Tensor4D, run: RunContext): tf.Tensor4D {
    let y = run.step(() => maxPoolCeil(tf.relu(this.batchNorm(this.conv(x, 'conv1', 64, 7, { stride: 2, padding: 3 }), 'bn1', run.training, true, run.bnUpdates))));
    STAGES.forEach((stage, s) => {
      for (let b = 0; b < RESNET101_BLOCKS[s]!; b++) {
        const input = y;
        y = run.step(() =>
          this.bottleneck(input, `layer${s + 1}.${b}`, stage.planes, { stride: b === 0 ? stage.stride : 1, dilation: stage.dilation, projection: b === 0, frozen: true }, run),
        );
        if (!run.training && input !== x) input.dispose();
      }
    });
    return y;
  }

  /** The reference forward on a normalised input (BGR minus IMG_MEAN), outputs at feature resolution. */
  forward(x: tf.Tensor4D, training: boolean, bnUpdates?: BatchNormStatsSink): ReferenceOutputs {
    const run = runContext(training, bnUpdates);
    const features = this.backbone(x, run);
    const prefix = 'initial_task_prediction_heads';
    const taskFeatures = (task: 'S' | 'D') =>
      run.step(() => {
        const name = `${prefix}.layers.${task}`;
        const first = this.bottleneck(features, `${name}.0`, REFERENCE_BRANCH / EXPANSION, { stride: 1, dilation: 1, projection: true, frozen: false }, run);
        return this.bottleneck(first, `${name}.1`, REFERENCE_BRANCH / EXPANSION, { stride: 1, dilation: 1, projection: false, frozen: false }, run);
      });
    const fs = taskFeatures('S');
    const fd = taskFeatures('D');
    const depthOut = (f: tf.Tensor4D, name: string) => this.conv(f, name, 1, 1, { bias: true, head: true, std: HEAD_STD });
    const initial_D_src = depthOut(fd, `${prefix}.conv_out.D_src`);
    const initial_D = depthOut(fd, `${prefix}.conv_out.D`);
    const initial_S = run.step(() =>
      this.variant === 'gta'
        ? this.aspp(features, `${prefix}.conv_out.S`, REFERENCE_CLASSES)
        : this.conv(fs, `${prefix}.conv_out.S`, REFERENCE_CLASSES, 1, { bias: true, head: true, std: HEAD_STD }),
    );
    if (!training) features.dispose();
    const distilled = run.step(() => ({
      S: tf.add<tf.Tensor4D>(fs, this.attentionMessage(fd, 'multi_modal_distillation.self_attention.S.D')),
      D: tf.add<tf.Tensor4D>(fd, this.attentionMessage(fs, 'multi_modal_distillation.self_attention.D.S')),
    }));
    return {
      S: run.step(() => this.aspp(distilled.S, 'heads.S', REFERENCE_CLASSES)),
      D: run.step(() => this.aspp(distilled.D, 'heads.D', 1)),
      D_src: run.step(() => this.aspp(distilled.D, 'heads.D_src', 1)),
      initial_S,
      initial_D,
      initial_D_src,
    };
  }
}

/** Where training-mode batch statistics go (the trainer applies them to the running averages after the step). */
export type BatchNormStatsSink = { mean: tf.Variable; variance: tf.Variable; batchMean: tf.Tensor; batchVariance: tf.Tensor }[];

interface RunContext {
  training: boolean;
  bnUpdates?: BatchNormStatsSink;
  /** In inference, runs `f` in its own tidy so that a block's intermediates are freed at once (memory at 1024x512). */
  step<T extends tf.TensorContainer>(f: () => T): T;
}

function runContext(training: boolean, bnUpdates?: BatchNormStatsSink): RunContext {
  return { training, bnUpdates, step: (f) => (training ? f() : tf.tidy(f)) };
}

/** A dilated 3x3 'same' convolution as space-to-batch → conv → batch-to-space, which tfjs can differentiate. */
function atrousSame(x: tf.Tensor4D, w: tf.Tensor4D, rate: number): tf.Tensor4D {
  const [, h, wd] = x.shape;
  const extraH = (rate - (h % rate)) % rate;
  const extraW = (rate - (wd % rate)) % rate;
  const blocks = tf.spaceToBatchND(x, [rate, rate], [[rate, rate + extraH], [rate, rate + extraW]]) as tf.Tensor4D;
  const convolved = tf.conv2d(blocks, w, 1, 'valid');
  return tf.batchToSpaceND(convolved, [rate, rate], [[0, extraH], [0, extraW]]) as tf.Tensor4D;
}

/** Output length of nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), with PyTorch's rule that the last window starts inside. */
export function ceilPoolLength(n: number): number {
  let out = Math.ceil((n + 2 - 3) / 2) + 1;
  if ((out - 1) * 2 >= n + 1) out--;
  return out;
}

/**
 * nn.MaxPool2d(kernel 3, stride 2, padding 1, ceil_mode=True). The input follows a ReLU (never negative) and every
 * window holds at least one real value, so zero padding gives PyTorch's result (which pads with -inf).
 */
function maxPoolCeil(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  const extra = (n: number) => (ceilPoolLength(n) - 1) * 2 + 3 - (n + 1);
  const padded = tf.pad(x, [[0, 0], [1, extra(h)], [1, extra(w)], [0, 0]]) as tf.Tensor4D;
  return tf.maxPool(padded, 3, 2, 'valid');
}
