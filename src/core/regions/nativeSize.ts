// Working-size layers at an image's own size, with exactly the nearest-neighbour geometry of the served
// prediction (corrections/modelLabels.ts resizeNearestCentred), so the prediction, second choice, superpixels
// and region boxes the editor gets line up pixel for pixel.
import { resizeNearestCentred } from '../corrections/modelLabels';

/** 16-bit ids resized like the label maps: each byte plane through the same resampling. */
export function resizeIdsCentred(src: Uint16Array, sw: number, sh: number, w: number, h: number): Uint16Array {
  const low = new Uint8Array(src.length);
  const high = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    low[i] = src[i]! & 0xff;
    high[i] = src[i]! >> 8;
  }
  const lowOut = resizeNearestCentred(low, sw, sh, w, h);
  const highOut = resizeNearestCentred(high, sw, sh, w, h);
  const out = new Uint16Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = lowOut[i]! | (highOut[i]! << 8);
  return out;
}

/** For each native index along one axis, the working index it shows (resampling a ramp 0..working-1). */
export function axisMapping(working: number, native: number): Uint16Array {
  return resizeIdsCentred(Uint16Array.from({ length: working }, (_, i) => i), working, 1, native, 1);
}

/** Little-endian bytes of 16-bit ids, the raw `superpixels` buffer. */
export function uint16LittleEndian(ids: Uint16Array): Buffer {
  const bytes = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) bytes.writeUInt16LE(ids[i]!, i * 2);
  return bytes;
}
