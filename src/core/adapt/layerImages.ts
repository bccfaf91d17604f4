// A round's stored layers rendered for display: the prediction in the Cityscapes palette, confidence and
// difficulty as a heat ramp, depth heads as grey (near = bright). PNG bytes, same size as the stored layer.
import { decode } from 'fast-png';
import sharp from 'sharp';
import { UserError, type RoundLayer } from '../../shared/api';
import { colorizeTrainIds } from '../../shared/labels';
import type { Db } from '../store/db';
import { getLayer } from '../store/roundsRepo';

/** Dark blue → red → yellow for 0..255 (low to high difficulty / confidence). */
function heat(v: number): [number, number, number] {
  const t = v / 255;
  return [Math.round(255 * Math.min(1, t * 2)), Math.round(255 * Math.max(0, t * 2 - 1)), Math.round(160 * Math.max(0, 1 - t * 2))];
}

export async function renderLayer(db: Db, roundId: number, imageId: number, layer: RoundLayer): Promise<Buffer> {
  const blob = getLayer(db, roundId, imageId, layer);
  if (!blob) throw new UserError(`Round ${roundId} has no ${layer.replace('_', ' ')} layer for image ${imageId}.`);
  const png = decode(blob);
  const { width, height } = png;
  const n = width * height;
  let rgba: Uint8ClampedArray;
  if (layer === 'prediction') {
    rgba = colorizeTrainIds(png.data);
  } else if (layer === 'confidence' || layer === 'difficulty') {
    rgba = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      const [r, g, b] = heat(png.data[i]!);
      rgba.set([r, g, b, 255], i * 4);
    }
  } else {
    // Depth targets are inverse-depth-like (large = near); scale the 99th percentile to white.
    const values = png.data as Uint16Array;
    const sorted = Uint16Array.from(values).sort();
    const top = Math.max(1, sorted[Math.floor(n * 0.99)]!);
    rgba = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      const g = Math.min(255, Math.round((values[i]! / top) * 255));
      rgba.set([g, g, g, 255], i * 4);
    }
  }
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), { raw: { width, height, channels: 4 } }).png().toBuffer();
}
