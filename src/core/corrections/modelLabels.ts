// The model's label map for an image at the image's own resolution: the one definition the editor's starting
// labels, the eraser's "model label" and the server's first correction all share, so client and server agree
// pixel for pixel.
import { decode } from 'fast-png';
import { UserError } from '../../shared/api';
import { resizeNearestCentred } from '../raster/resize';
import type { Db } from '../store/db';
import { getLayer } from '../store/roundsRepo';

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
