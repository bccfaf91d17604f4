// The model's label map for an image at the image's own resolution: the one definition the editor's starting
// labels, the eraser's "model label" and the server's first correction all share, so client and server agree
// pixel for pixel.
import { decode } from 'fast-png';
import { UserError } from '../../shared/api';
import type { Db } from '../store/db';
import { getLayer } from '../store/roundsRepo';

/**
 * Nearest-neighbour resampling with pixel centres aligned (output pixel x reads source pixel
 * floor((x + 0.5) * sw / w)), the same geometry as the bilinear resize that made the working-size input.
 */
export function resizeNearestCentred(src: Uint8Array, sw: number, sh: number, w: number, h: number): Uint8Array {
  if (src.length !== sw * sh) throw new Error(`label map has ${src.length} pixels, expected ${sw}x${sh}`);
  if (sw === w && sh === h) return src.slice();
  const xs = new Uint32Array(w);
  for (let x = 0; x < w; x++) xs[x] = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / w));
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / h)) * sw;
    for (let x = 0; x < w; x++) out[y * w + x] = src[row + xs[x]!]!;
  }
  return out;
}

/**
 * Round `roundId`'s predicted trainIds for `imageId` (stored at the round's working size), upsampled to
 * `width` x `height` by `resizeNearestCentred`. One byte per pixel, row-major. Serves the
 * `image/<id>/round/<r>/raw/prediction` asset and seeds an image's first correction.
 */
export function modelLabelsAtNativeSize(db: Db, roundId: number, imageId: number, width: number, height: number): Uint8Array {
  const blob = getLayer(db, roundId, imageId, 'prediction');
  if (!blob) throw new UserError(`Round ${roundId} has no prediction for image ${imageId}; pick a round that predicted this image.`);
  const png = decode(blob);
  if (png.channels !== 1 || png.depth !== 8) throw new Error(`round ${roundId} stored a prediction that is not an 8-bit label map`);
  return resizeNearestCentred(png.data as Uint8Array, png.width, png.height, width, height);
}

/** The labels a correction starts from: the base round's prediction, or "ignore" everywhere without a round. */
export function initialLabels(db: Db, baseRoundId: number | null, imageId: number, width: number, height: number): Uint8Array {
  return baseRoundId === null ? new Uint8Array(width * height).fill(255) : modelLabelsAtNativeSize(db, baseRoundId, imageId, width, height);
}
