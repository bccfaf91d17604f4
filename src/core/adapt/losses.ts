// Loss terms of CORDA.md §3 as tfjs functions (differentiable where a gradient is meant to flow).
import * as tf from '../model/tf';
import { HUMAN_IGNORE, IGNORE, NUM_CLASSES } from '../../shared/labels';
import { pickClass, softmaxCrossEntropyGrad } from '../model/kernels/crossEntropyGrad';

/**
 * fn(...inputs) as a constant of the tape: the same value, a zero gradient for every input, and none of fn's own ops
 * recorded. A zero-gradient identity after fn would still have backprop run fn's gradients only to multiply them by
 * zero; tf.max's alone is a broadcast Equal over the whole map, tens of milliseconds a step on wasm.
 */
export function detached<T extends tf.Tensor>(fn: (...xs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  const shapes = inputs.map((x) => x.shape);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: fn(...(args.slice(0, inputs.length) as tf.Tensor[])),
    gradFunc: () => shapes.map((shape) => tf.zeros(shape)),
  })) as unknown as (...xs: tf.Tensor[]) => T;
  return op(...inputs);
}

/**
 * Softmax cross-entropy per pixel with a hand-written gradient: the forward pass uses the fused Softmax kernel
 * and the log of the target class's probability only; the backward pass is (softmax · valid − target) · dy.
 * tfjs's logSoftmax + its generic gradient spent a quarter of a training step in Exp on wasm.
 * The targets are constants of the tape (they come from labels): only the logits take a gradient.
 */
function softmaxCrossEntropy(logits: tf.Tensor4D, { classes, valid }: PixelTargets): tf.Tensor3D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[1] as tf.GradSaveFunc;
    const probs = tf.softmax(args[0] as tf.Tensor4D);
    // Saved, not only closed over: the forward's scope disposes what the tape does not keep.
    save([probs, classes, valid]);
    const value = tf.mul(tf.neg(tf.log(tf.maximum(pickClass(probs, classes), 1e-30))), valid);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [p, c, v] = saved as [tf.Tensor4D, tf.Tensor3D, tf.Tensor3D];
        return softmaxCrossEntropyGrad(p, c, v, dy as tf.Tensor3D);
      },
    };
  }) as unknown as (logits: tf.Tensor4D) => tf.Tensor3D;
  return op(logits);
}

/** What a cross-entropy needs of a label map [B, H, W]: valid (label ≠ 255) and each pixel's class, −1 where ignored. */
export interface PixelTargets {
  valid: tf.Tensor3D;
  classes: tf.Tensor3D;
}

/** The label map's targets, to share between the loss terms of several heads on the same labels. */
export function pixelTargets(labels: tf.Tensor3D): PixelTargets {
  const valid = tf.cast(tf.notEqual(labels, IGNORE), 'float32') as tf.Tensor3D;
  const classes = tf.cast(tf.where(tf.equal(labels, IGNORE), tf.fill(labels.shape, -1, labels.dtype), labels), 'int32') as tf.Tensor3D;
  return { valid, classes };
}

const targetsOf = (labels: tf.Tensor3D | PixelTargets): PixelTargets => (labels instanceof tf.Tensor ? pixelTargets(labels) : labels);

/** Per-pixel cross-entropy [B, H, W] and the valid mask (label ≠ 255) for logits [B, H, W, C]. */
export function pixelCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D | PixelTargets): { ce: tf.Tensor3D; valid: tf.Tensor3D } {
  const t = targetsOf(labels);
  return { ce: softmaxCrossEntropy(logits, t), valid: t.valid };
}

/** Cross-entropy averaged over valid pixels (source supervision; ignore label 255). */
export function crossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D | PixelTargets, minShare = 0): tf.Scalar {
  const { ce, valid } = pixelCrossEntropy(logits, labels);
  return tf.div(tf.sum(ce), tf.maximum(tf.sum(valid), Math.max(1, minShare * valid.size))) as tf.Scalar;
}

/** Per-pixel CE times a weight map, averaged over all pixels (the mixed loss, DACS/CorDA). */
export function weightedCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D | PixelTargets, weights: tf.Tensor3D): tf.Scalar {
  const { ce } = pixelCrossEntropy(logits, labels);
  return tf.mean(tf.mul(ce, weights)) as tf.Scalar;
}

/** Pixels whose depth target is valid: 1.0 codes "invalid / too far" (CORDA.md §2), compared with a tolerance. */
export function validDepthMask(target: tf.Tensor): tf.Tensor {
  return tf.cast(tf.greater(tf.abs(tf.sub(target, 1)), 1e-4), 'float32');
}

/**
 * Reverse Huber: on valid pixels e = |pred − gt|, c = 0.2·max(e) over the batch (no gradient through c);
 * e where e ≤ c, else (e² + c²) / 2c; averaged over valid pixels. 0 when no pixel is valid.
 */
export function berHu(pred: tf.Tensor, target: tf.Tensor, valid: tf.Tensor = validDepthMask(target)): tf.Scalar {
  const e = tf.mul(tf.abs(tf.sub(pred, target)), valid);
  const c = detached((x) => tf.maximum(tf.mul(tf.max(x), 0.2), 1e-6), e);
  // e + relu(e − c)² / 2c equals e for e ≤ c and (e² + c²) / 2c above, without a comparison on the tape.
  const loss = tf.mul(tf.add(e, tf.div(tf.square(tf.relu(tf.sub(e, c))), tf.mul(c, 2))), valid);
  return tf.div(tf.sum(loss), tf.maximum(tf.sum(valid), 1)) as tf.Scalar;
}

/**
 * Depth-discrepancy weight (CORDA.md §4) per image: s = ReLU(1 − |D_src − D_tgt| / d) + 0.001,
 * w_d = clip(s + [d invalid], 0, 1), normalised by its per-image mean. Input and output [B, H, W].
 * 'reference-slip' is the reference code's: w_d over its batch mean, and through a [B, H, W] × [B, 1, H, W]
 * broadcast every image weighted by the batch's average w_d at each pixel.
 */
export function depthDiscrepancyWeight(depthSrc: tf.Tensor3D, depthTgt: tf.Tensor3D, depthTarget: tf.Tensor3D, mode: 'per-image' | 'reference-slip' = 'per-image'): tf.Tensor3D {
  return tf.tidy(() => {
    const delta = tf.abs(tf.sub(depthSrc, depthTgt));
    const s = tf.add(tf.relu(tf.sub(1, tf.div(delta, tf.maximum(depthTarget, 1e-6)))), 0.001);
    const invalid = tf.sub(1, validDepthMask(depthTarget));
    const wd = tf.clipByValue(tf.add(s, invalid), 0, 1);
    if (mode === 'reference-slip') return tf.mul(tf.onesLike(wd), tf.mean(tf.div(wd, tf.maximum(tf.mean(wd), 1e-6)), 0, true)) as tf.Tensor3D;
    const perImageMean = tf.mean(wd, [1, 2], true);
    return tf.div(wd, tf.maximum(perImageMean, 1e-6)) as tf.Tensor3D;
  });
}

/** Per-pixel difficulty for the workbench: 1 − clip(s, 0, 1) with s from the same discrepancy (CORDA.md §4). */
export function difficultyMap(depthSrc: tf.Tensor3D, depthTgt: tf.Tensor3D, depthTarget: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const delta = tf.abs(tf.sub(depthSrc, depthTgt));
    const s = tf.relu(tf.sub(1, tf.div(delta, tf.maximum(depthTarget, 1e-6))));
    return tf.sub(1, tf.clipByValue(s, 0, 1)) as tf.Tensor3D;
  });
}

/**
 * The ClassMix image's labels and per-pixel cross-entropy weights before the depth re-weighting. Pasted source
 * pixels (m = 1) keep their label with weight 1; target pixels take the teacher's pseudo-label with the
 * confidence scalar q. Human corrections (`corrected`: trainIds, 255 where uncorrected) are trusted labels: they
 * replace the pseudo-label with weight 1 and are reported in `trusted`, which the depth re-weighting leaves alone
 * (CORDA.md §6). Pixels a person marked "ignore" (HUMAN_IGNORE) weigh 0: neither label is learnt there.
 */
export function mixedTargets(
  m: tf.Tensor3D,
  sourceLabels: tf.Tensor3D,
  pseudo: tf.Tensor3D,
  q: tf.Scalar,
  corrected: tf.Tensor3D | null,
): { labels: tf.Tensor3D; weight: tf.Tensor3D; trusted: tf.Tensor3D | null } {
  if (!corrected) {
    const { labels, weight } = tf.tidy(() => ({
      labels: tf.where(tf.greater(m, 0.5), sourceLabels, pseudo) as tf.Tensor3D,
      weight: tf.add(m, tf.mul(tf.sub(1, m), q)) as tf.Tensor3D,
    }));
    return { labels, weight, trusted: null };
  }
  return tf.tidy(() => {
    const fromTarget = tf.sub(1, m);
    const base = tf.add(m, tf.mul(fromTarget, q));
    const isLabel = tf.less(corrected, NUM_CLASSES);
    const trusted = tf.mul(fromTarget, tf.cast(isLabel, 'float32')) as tf.Tensor3D;
    const ignored = tf.mul(fromTarget, tf.cast(tf.equal(corrected, HUMAN_IGNORE), 'float32'));
    return {
      labels: tf.where(tf.greater(m, 0.5), sourceLabels, tf.where(isLabel, corrected, pseudo)) as tf.Tensor3D,
      weight: tf.add(tf.mul(base, tf.sub(tf.sub(1, trusted), ignored)), trusted) as tf.Tensor3D,
      trusted,
    };
  });
}
