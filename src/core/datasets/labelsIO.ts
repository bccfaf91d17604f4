// Reads a dataset's ground truth as a trainId map, whatever the source format (DATASETS.md): Cityscapes and
// GTA5 store labelIds (GTA5 often as palette PNGs: the index is the id), SYNTHIA a 16-bit multi-channel PNG
// with its own ids in the first channel.
import { readFile } from 'node:fs/promises';
import { decode } from 'fast-png';
import type { DatasetKind } from '../../shared/api';
import { LABEL_ID_TO_TRAIN_ID, SYNTHIA_ID_TO_TRAIN_ID, IGNORE } from '../../shared/labels';

export interface TrainIdMap {
  width: number;
  height: number;
  data: Uint8Array;
}

export function decodeTrainIds(png: Uint8Array, kind: DatasetKind): TrainIdMap {
  const img = decode(png);
  const { width, height, channels, data } = img;
  const lut = kind === 'synthia' ? SYNTHIA_ID_TO_TRAIN_ID : LABEL_ID_TO_TRAIN_ID;
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const id = data[i * channels]!;
    out[i] = id < 256 ? lut[id]! : IGNORE;
  }
  return { width, height, data: out };
}

export async function readTrainIds(path: string, kind: DatasetKind): Promise<TrainIdMap> {
  return decodeTrainIds(await readFile(path), kind);
}
