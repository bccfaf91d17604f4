// A round's raw editor buffers for one image at the image's own size: `prediction` and `second` (one trainId
// byte per pixel) and `superpixels` (uint16 little-endian), all with the same nearest-neighbour mapping.
import { decode } from 'fast-png';
import { UserError, type RoundRaw } from '../../shared/api';
import { modelLabelsAtNativeSize, resizeNearestCentred } from '../corrections/modelLabels';
import type { Db } from '../store/db';
import { getLayer } from '../store/roundsRepo';
import { resizeIdsCentred, uint16LittleEndian } from './nativeSize';

const bytes = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

export function roundRawBuffer(db: Db, roundId: number, image: { id: number; width: number; height: number }, raw: RoundRaw): Buffer {
  if (raw === 'prediction') return bytes(modelLabelsAtNativeSize(db, roundId, image.id, image.width, image.height));
  const blob = getLayer(db, roundId, image.id, raw);
  if (!blob && !getLayer(db, roundId, image.id, 'prediction')) {
    throw new UserError(`Round ${roundId} has no prediction for image ${image.id}; pick a round that predicted this image.`);
  }
  if (!blob) throw new UserError(`Round ${roundId} was made before second choices/superpixels were stored; run a new round.`);
  const png = decode(blob);
  if (raw === 'second') return bytes(resizeNearestCentred(png.data as Uint8Array, png.width, png.height, image.width, image.height));
  return uint16LittleEndian(resizeIdsCentred(png.data as Uint16Array, png.width, png.height, image.width, image.height));
}
