// Strong augmentation of the mixed image (CORDA.md §3): colour jitter (p 0.8, strength 0.25 for brightness,
// contrast and saturation, and a hue rotation of up to ±hue of the colour circle) and Gaussian blur
// (p 0.5, σ ∈ [0.15, 1.15]), per image, drawn from the round's seeded PRNG. Images are RGB in [0, 255].
import * as tf from '../model/tf';

export interface AugmentParams {
  /** hue: the rotation as a fraction of the colour circle (0 = none). */
  jitter: { brightness: number; contrast: number; saturation: number; hue: number } | null;
  blurSigma: number | null;
}

export function drawAugment(random: () => number, hue = 0.25): AugmentParams {
  const strength = 0.25;
  const factor = () => 1 + (random() * 2 - 1) * strength;
  const jitter = random() < 0.8 ? { brightness: factor(), contrast: factor(), saturation: factor(), hue: (random() * 2 - 1) * hue } : null;
  const blurSigma = random() < 0.5 ? 0.15 + random() * (1.15 - 0.15) : null;
  return { jitter, blurSigma };
}

export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / sum);
}

function blur(image: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const k = gaussianKernel(sigma);
  const n = k.length;
  // Separable depthwise blur: a row pass then a column pass, per channel.
  const horizontal = tf.tile(tf.tensor4d(k, [1, n, 1, 1]), [1, 1, 3, 1]) as tf.Tensor4D;
  const vertical = tf.tile(tf.tensor4d(k, [n, 1, 1, 1]), [1, 1, 3, 1]) as tf.Tensor4D;
  return tf.depthwiseConv2d(tf.depthwiseConv2d(image, horizontal, 1, 'same'), vertical, 1, 'same');
}

/** The inverse of a 3x3 matrix (by cofactors). */
function inverse3(m: number[][]): number[][] {
  const at = (r: number, c: number) => m[(r + 3) % 3]![(c + 3) % 3]!;
  const cofactor = (r: number, c: number) => at(r + 1, c + 1) * at(r + 2, c + 2) - at(r + 1, c + 2) * at(r + 2, c + 1);
  const det = m[0]!.reduce((sum, v, c) => sum + v * cofactor(0, c), 0);
  return [0, 1, 2].map((r) => [0, 1, 2].map((c) => cofactor(c, r) / det));
}

/**
 * The RGB → RGB matrix (row-vector convention, x' = x·M) that rotates chroma by `turns` of the colour circle in
 * YIQ space, keeping luma: a linear stand-in for an HSV hue shift.
 */
export function hueRotation(turns: number): number[][] {
  const toYiq = [
    [0.299, 0.596, 0.211],
    [0.587, -0.274, -0.523],
    [0.114, -0.322, 0.312],
  ];
  const fromYiq = inverse3(toYiq);
  const c = Math.cos(2 * Math.PI * turns);
  const s = Math.sin(2 * Math.PI * turns);
  const rotate = [
    [1, 0, 0],
    [0, c, s],
    [0, -s, c],
  ];
  const mul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((sum, v, k) => sum + v * b[k]![j]!, 0)));
  return mul(mul(toYiq, rotate), fromYiq);
}

function jitter(image: tf.Tensor4D, p: NonNullable<AugmentParams['jitter']>): tf.Tensor4D {
  let x = tf.mul(image, p.brightness) as tf.Tensor4D;
  const grey = tf.sum(tf.mul(x, [0.299, 0.587, 0.114]), -1, true);
  x = tf.add(tf.mul(tf.sub(x, grey), p.saturation), grey) as tf.Tensor4D;
  const mean = tf.mean(grey);
  x = tf.add(tf.mul(tf.sub(x, mean), p.contrast), mean) as tf.Tensor4D;
  if (p.hue !== 0) {
    const [, h, w] = x.shape;
    x = tf.reshape(tf.matMul(tf.reshape(x, [h * w, 3]), tf.tensor2d(hueRotation(p.hue))), x.shape) as tf.Tensor4D;
  }
  return tf.clipByValue(x, 0, 255) as tf.Tensor4D;
}

/** Applies one parameter set per image of the batch. */
export function augmentBatch(images: tf.Tensor4D, params: AugmentParams[]): tf.Tensor4D {
  return tf.tidy(() => {
    const parts = tf.split(images, images.shape[0], 0) as tf.Tensor4D[];
    const out = parts.map((img, i) => {
      const p = params[i]!;
      let x = img;
      if (p.jitter) x = jitter(x, p.jitter);
      if (p.blurSigma) x = blur(x, p.blurSigma);
      return x;
    });
    return tf.concat(out, 0) as tf.Tensor4D;
  });
}

/**
 * Each source image with its colour moved to its paired target image's: per channel, (x - mean_s) / std_s * std_t
 * + mean_t over the image's pixels (population spread, +1 against flat channels), clipped to [0, 255].
 */
export function recolourToTarget(source: tf.Tensor4D, target: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const s = tf.moments(source, [1, 2], true);
    const t = tf.moments(target, [1, 2], true);
    const spread = (variance: tf.Tensor) => tf.add(tf.sqrt(variance), 1);
    const moved = tf.add(tf.mul(tf.div(tf.sub(source, s.mean), spread(s.variance)), spread(t.variance)), t.mean);
    return tf.clipByValue(moved, 0, 255) as tf.Tensor4D;
  });
}
