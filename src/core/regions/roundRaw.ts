// A round's raw editor buffers for one image at the image's own size: `prediction` and `second` (one trainId
// byte per pixel) and `superpixels` (uint16 little-endian), all with the same nearest-neighbour mapping.
import { decode } from 'fast-png';
import { UserError, type RoundRaw } from '../../shared/api';
import { modelLabelsAtNativeSize } from '../corrections/modelLabels';
import { resizeNearestCentred } from '../raster/resize';
import type { Db } from '../store/db';
import { getLayer } from '../store/roundsRepo';

const bytes = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** Little-endian bytes of 16-bit ids, the raw `superpixels` buffer. */
export function uint16LittleEndian(ids: Uint16Array): Buffer {
  const out = Buffer.alloc(ids.length * 2);
  for (let i = 0; i < ids.length; i++) out.writeUInt16LE(ids[i]!, i * 2);
  return out;
}

export function roundRawBuffer(db: Db, roundId: number, image: { id: number; width: number; height: number }, raw: RoundRaw): Buffer {
  if (raw === 'prediction') return bytes(modelLabelsAtNativeSize(db, roundId, image.id, image.width, image.height));
  const blob = getLayer(db, roundId, image.id, raw);
  if (!blob && !getLayer(db, roundId, image.id, 'prediction')) {
    throw new UserError(`Round ${roundId} has no prediction for image ${image.id}; pick a round that predicted this image.`);
  }
  if (!blob) throw new UserError(`Round ${roundId} was made before second choices/superpixels were stored; run a new round.`);
  const png = decode(blob);
  if (raw === 'second') return bytes(resizeNearestCentred(png.data as Uint8Array, png.width, png.height, image.width, image.height));
  return uint16LittleEndian(resizeNearestCentred(png.data as Uint16Array, png.width, png.height, image.width, image.height));
}
