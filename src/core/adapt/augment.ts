// Strong augmentation of the mixed image (CORDA.md §3): colour jitter (p 0.8, strength 0.25) and Gaussian blur
// (p 0.5, σ ∈ [0.15, 1.15]), per image, drawn from the round's seeded PRNG. Images are RGB in [0, 255].
import * as tf from '../model/tf';

export interface AugmentParams {
  jitter: { brightness: number; contrast: number; saturation: number } | null;
  blurSigma: number | null;
}

export function drawAugment(random: () => number): AugmentParams {
  const strength = 0.25;
  const factor = () => 1 + (random() * 2 - 1) * strength;
  const jitter = random() < 0.8 ? { brightness: factor(), contrast: factor(), saturation: factor() } : null;
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

function jitter(image: tf.Tensor4D, p: NonNullable<AugmentParams['jitter']>): tf.Tensor4D {
  let x = tf.mul(image, p.brightness) as tf.Tensor4D;
  const grey = tf.sum(tf.mul(x, [0.299, 0.587, 0.114]), -1, true);
  x = tf.add(tf.mul(tf.sub(x, grey), p.saturation), grey) as tf.Tensor4D;
  const mean = tf.mean(grey);
  x = tf.add(tf.mul(tf.sub(x, mean), p.contrast), mean) as tf.Tensor4D;
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
