// Nearest-neighbour resampling of label maps and id maps (never interpolate class ids), and the size check that
// goes with it. Two geometries, one sampler:
// - corner-aligned: output pixel x reads source pixel floor(x * sw / w), the usual nearest sampling of PIL /
//   OpenCV INTER_NEAREST, which cityscapesScripts-style evaluation and training crops use;
// - centre-aligned: output pixel x reads floor((x + 0.5) * sw / w), the geometry of the bilinear resize that
//   made a round's working-size input, so the labels, second choice, superpixels and region boxes the editor
//   gets at an image's own size line up with the prediction pixel for pixel.

type IdArray = Uint8Array | Uint16Array | Float32Array;

function checkSource(src: IdArray, sw: number, sh: number): void {
  if (src.length !== sw * sh) throw new Error(`label map has ${src.length} pixels, expected ${sw}x${sh}`);
}

/** Source index along one axis for each of `n` output pixels: floor((i + offset) * from / n), kept in range. */
function sourceIndices(from: number, n: number, offset: number): Uint32Array {
  const at = new Uint32Array(n);
  for (let i = 0; i < n; i++) at[i] = Math.min(from - 1, Math.floor(((i + offset) * from) / n));
  return at;
}

function sample<T extends IdArray>(src: T, sw: number, sh: number, w: number, h: number, offset: number): T {
  const out = new (src.constructor as { new (n: number): T })(w * h);
  const xs = sourceIndices(sw, w, offset);
  const ys = sourceIndices(sh, h, offset);
  for (let y = 0; y < h; y++) {
    const srcRow = ys[y]! * sw;
    const dstRow = y * w;
    for (let x = 0; x < w; x++) out[dstRow + x] = src[srcRow + xs[x]!]!;
  }
  return out;
}

/** Resizes a w x h map to W x H, corner-aligned; returns `src` itself when the size is unchanged. */
export function resizeNearest<T extends IdArray>(src: T, w: number, h: number, W: number, H: number): T {
  checkSource(src, w, h);
  if (W <= 0 || H <= 0 || !Number.isInteger(W) || !Number.isInteger(H)) throw new Error(`invalid target size ${W}x${H}`);
  if (w === W && h === H) return src;
  return sample(src, w, h, W, H, 0);
}

/** Upsampling only: the label map must be no larger than the target in either dimension. */
export function upsampleNearest<T extends Uint8Array | Uint16Array>(src: T, w: number, h: number, W: number, H: number): T {
  if (w > W || h > H) throw new Error(`cannot upsample ${w}x${h} to the smaller ${W}x${H}`);
  return resizeNearest(src, w, h, W, H);
}

/** Resizes an sw x sh map to w x h, centre-aligned; always a new array, a copy when the size is unchanged. */
export function resizeNearestCentred<T extends Uint8Array | Uint16Array>(src: T, sw: number, sh: number, w: number, h: number): T {
  checkSource(src, sw, sh);
  if (sw === w && sh === h) return src.slice() as T;
  return sample(src, sw, sh, w, h, 0.5);
}

/** For each native index along one axis, the working index it shows (resampling a ramp 0..working-1). */
export function axisMapping(working: number, native: number): Uint16Array {
  return resizeNearestCentred(Uint16Array.from({ length: working }, (_, i) => i), working, 1, native, 1);
}

/**
 * Whether a w x h map is the W x H frame scaled by one factor: the factor taken from one side must give the
 * other side to within less than a pixel (rounding), e.g. 1024x512 or 513x257 for 2048x1024, but not
 * 1280x720 for 1914x1052, nor 2x2 for 4x2.
 */
export function isScaledSize(w: number, h: number, W: number, H: number): boolean {
  if (w === W && h === H) return true;
  if (w <= 0 || h <= 0 || W <= 0 || H <= 0) return false;
  return Math.abs(h - (H * w) / W) < 1 || Math.abs(w - (W * h) / H) < 1;
}
