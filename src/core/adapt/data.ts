// Training data: images of a dataset decoded at the round's working resolution (RGB bilinear via sharp,
// labels and depth nearest so class ids and the invalid-depth code survive), cached, and cut into random crops.
import sharp from 'sharp';
import { MAX_IMAGE_PIXELS, UserError } from '../../shared/api';
import { containedPath, readDatasetFile } from '../datasets/assets';
import { readDepthTarget } from '../datasets/depthIO';
import { readTrainIds } from '../datasets/labelsIO';
import { resizeNearest } from '../raster/resize';
import type { StoredImage } from '../store/datasetsRepo';

export interface Sample {
  width: number;
  height: number;
  /** RGB, HWC, 0..255. */
  rgb: Uint8Array;
  /** trainIds (255 = ignore): ground truth, or a target image's human corrections; null without either. */
  labels: Uint8Array | null;
  /** Depth target (CORDA.md §2; 1.0 = invalid), or null without depth. */
  depth: Float32Array | null;
}

export interface Crop {
  rgb: Float32Array;
  labels: Uint8Array | null;
  depth: Float32Array | null;
}

/** Working size for an image: its width scaled to `width`, aspect kept, both sides even. */
export function workingSize(image: { width: number; height: number }, width: number): { width: number; height: number } {
  const w = Math.max(2, Math.round(width / 2) * 2);
  const h = Math.max(2, Math.round((image.height * w) / image.width / 2) * 2);
  return { width: w, height: h };
}

/** A full-resolution label map for an image, or null (e.g. the human-set pixels of a target image). */
export type LabelSource = (image: StoredImage) => { width: number; height: number; data: Uint8Array } | null;

export interface SampleOptions {
  /** Load the dataset's ground truth. */
  labels: boolean;
  depth: boolean;
  /** Where an image has no ground truth loaded: trusted labels from here (255 = none), e.g. corrections. */
  trusted?: LabelSource;
}

export async function loadSample(image: StoredImage, width: number, options: SampleOptions): Promise<Sample> {
  const size = workingSize(image, width);
  const rgb = await readDatasetFile(containedPath(image.root, image.rgbPath), (file) =>
    sharp(file, { limitInputPixels: MAX_IMAGE_PIXELS }).removeAlpha().resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer(),
  );
  let labels: Uint8Array | null = null;
  if (options.labels && image.labelPath) {
    const map = await readDatasetFile(containedPath(image.root, image.labelPath), (file) => readTrainIds(file, image.kind));
    labels = resizeNearest(map.data, map.width, map.height, size.width, size.height);
  } else if (options.trusted) {
    const map = options.trusted(image);
    if (map) labels = resizeNearest(map.data, map.width, map.height, size.width, size.height);
  }
  let depth: Float32Array | null = null;
  if (options.depth && image.depthPath) {
    const cameraFile = image.cameraPath && containedPath(image.root, image.cameraPath);
    const map = await readDatasetFile(containedPath(image.root, image.depthPath), (file) => readDepthTarget(image.kind, file, cameraFile));
    depth = resizeNearest(map.data, map.width, map.height, size.width, size.height);
  }
  return { ...size, rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength), labels, depth };
}

/** Cuts a crop at (x, y), optionally mirrored. */
export function cropSample(s: Sample, x: number, y: number, w: number, h: number, flip: boolean): Crop {
  if (w > s.width || h > s.height) {
    throw new UserError(`The crop ${w}x${h} is larger than the working images (${s.width}x${s.height}); choose a smaller crop or a larger working size.`);
  }
  const rgb = new Float32Array(w * h * 3);
  const labels = s.labels ? new Uint8Array(w * h) : null;
  const depth = s.depth ? new Float32Array(w * h) : null;
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < w; col++) {
      const sx = x + (flip ? w - 1 - col : col);
      const src = (y + row) * s.width + sx;
      const dst = row * w + col;
      rgb[dst * 3] = s.rgb[src * 3]!;
      rgb[dst * 3 + 1] = s.rgb[src * 3 + 1]!;
      rgb[dst * 3 + 2] = s.rgb[src * 3 + 2]!;
      if (labels) labels[dst] = s.labels![src]!;
      if (depth) depth[dst] = s.depth![src]!;
    }
  }
  return { rgb, labels, depth };
}

/** Loads samples on demand and keeps the most recent `capacity` of them. */
export class SampleCache {
  private readonly cache = new Map<number, Promise<Sample>>();

  constructor(
    private readonly images: StoredImage[],
    private readonly width: number,
    private readonly options: SampleOptions,
    private readonly capacity = 256,
  ) {
    if (images.length === 0) throw new UserError('The dataset has no images to train on.');
  }

  get size(): number {
    return this.images.length;
  }

  image(index: number): StoredImage {
    return this.images[index]!;
  }

  get(index: number): Promise<Sample> {
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index);
      this.cache.set(index, hit);
      return hit;
    }
    const loading = loadSample(this.images[index]!, this.width, this.options);
    this.cache.set(index, loading);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return loading;
  }
}
