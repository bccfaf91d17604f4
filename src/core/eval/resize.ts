// Nearest-neighbour resampling of label maps (never interpolate class ids). Source pixel for output (x, y) is
// (floor(x * w / W), floor(y * h / H)), the usual nearest sampling of PIL / OpenCV INTER_NEAREST.

/** Resizes a w x h label map to W x H by nearest neighbour; returns `src` itself when the size is unchanged. */
export function resizeNearest<T extends Uint8Array | Uint16Array | Float32Array>(src: T, w: number, h: number, W: number, H: number): T {
  if (src.length !== w * h) throw new Error(`label map has ${src.length} pixels, expected ${w}x${h}`);
  if (W <= 0 || H <= 0 || !Number.isInteger(W) || !Number.isInteger(H)) throw new Error(`invalid target size ${W}x${H}`);
  if (w === W && h === H) return src;
  const out = new (src.constructor as { new (n: number): T })(W * H);
  const xs = new Uint32Array(W);
  for (let x = 0; x < W; x++) xs[x] = Math.floor((x * w) / W);
  for (let y = 0; y < H; y++) {
    const srcRow = Math.floor((y * h) / H) * w;
    const dstRow = y * W;
    for (let x = 0; x < W; x++) out[dstRow + x] = src[srcRow + xs[x]!]!;
  }
  return out;
}

/** Upsampling only: the label map must be no larger than the target in either dimension. */
export function upsampleNearest<T extends Uint8Array | Uint16Array>(src: T, w: number, h: number, W: number, H: number): T {
  if (w > W || h > H) throw new Error(`cannot upsample ${w}x${h} to the smaller ${W}x${H}`);
  return resizeNearest(src, w, h, W, H);
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
