// Reads a dataset's ground truth as a trainId map, whatever the source format (DATASETS.md): Cityscapes and
// GTA5 store labelIds (GTA5 often as palette PNGs: the index is the id), SYNTHIA a 16-bit multi-channel PNG
// with its own ids in the first channel. The header is read before anything is decoded: a file declaring more
// than MAX_IMAGE_PIXELS is refused at once (a 250 KB file can declare 16000x16000 and take gigabytes to decode).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { decode } from 'fast-png';
import { MAX_IMAGE_PIXELS, UserError, type DatasetKind } from '../../shared/api';
import { LABEL_ID_TO_TRAIN_ID, SYNTHIA_ID_TO_TRAIN_ID, IGNORE } from '../../shared/labels';
import { PngError, parsePngHeader, type PngInfo } from './pngHeader';

export interface TrainIdMap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The PNG's header, checked against the contract's pixel limit; a UserError names `what` and says why. */
export function checkLabelPng(png: Uint8Array, what = 'The label file'): PngInfo {
  let info: PngInfo;
  try {
    info = parsePngHeader(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  } catch (error) {
    if (error instanceof PngError) throw new UserError(`${what} cannot be read: ${error.message}.`);
    throw error;
  }
  if (info.width * info.height > MAX_IMAGE_PIXELS) {
    throw new UserError(
      `${what} declares ${info.width}x${info.height} pixels, more than the ${MAX_IMAGE_PIXELS.toLocaleString('en-US')} the workbench reads; it was not decoded.`,
    );
  }
  return info;
}

export function decodeTrainIds(png: Uint8Array, kind: DatasetKind, what?: string): TrainIdMap {
  checkLabelPng(png, what);
  let img: ReturnType<typeof decode>;
  try {
    img = decode(png);
  } catch (error) {
    throw new UserError(`${what ?? 'The label file'} cannot be decoded (${(error as Error).message}); the file is damaged.`);
  }
  const { width, height, channels, data, depth } = img;
  const lut = kind === 'synthia' ? SYNTHIA_ID_TO_TRAIN_ID : LABEL_ID_TO_TRAIN_ID;
  const out = new Uint8Array(width * height);
  const short = () => new UserError(`${what ?? 'The label file'} holds fewer pixels than its header declares; the file is damaged.`);
  if (depth < 8) {
    // 1, 2 and 4 bits (grey or palette, one channel): fast-png leaves them packed, rows byte-aligned.
    const rowBytes = Math.ceil((width * depth) / 8);
    if (data.length < rowBytes * height) throw short();
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = x * depth;
        out[y * width + x] = lut[(data[y * rowBytes + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask]!;
      }
    }
    return { width, height, data: out };
  }
  if (data.length < out.length * channels) throw short();
  for (let i = 0; i < out.length; i++) {
    const id = data[i * channels]!;
    out[i] = id < 256 ? lut[id]! : IGNORE;
  }
  return { width, height, data: out };
}

export async function readTrainIds(path: string, kind: DatasetKind): Promise<TrainIdMap> {
  return decodeTrainIds(await readFile(path), kind, `The label file ${basename(path)}`);
}
