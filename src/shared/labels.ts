// Cityscapes classes, palettes and label-id conversions (DATASETS.md). Inside the app every label map is in
// Cityscapes trainIds (0..18, IGNORE = 255); conversion happens only at import and export.

export const IGNORE = 255;
/** In training targets only: a person marked the pixel "ignore", so it carries no loss at all (not even the pseudo-label's). */
export const HUMAN_IGNORE = 254;

export interface TrainClass {
  trainId: number;
  labelId: number;
  name: string;
  color: readonly [number, number, number];
}

export const TRAIN_CLASSES: readonly TrainClass[] = [
  { trainId: 0, labelId: 7, name: 'road', color: [128, 64, 128] },
  { trainId: 1, labelId: 8, name: 'sidewalk', color: [244, 35, 232] },
  { trainId: 2, labelId: 11, name: 'building', color: [70, 70, 70] },
  { trainId: 3, labelId: 12, name: 'wall', color: [102, 102, 156] },
  { trainId: 4, labelId: 13, name: 'fence', color: [190, 153, 153] },
  { trainId: 5, labelId: 17, name: 'pole', color: [153, 153, 153] },
  { trainId: 6, labelId: 19, name: 'traffic light', color: [250, 170, 30] },
  { trainId: 7, labelId: 20, name: 'traffic sign', color: [220, 220, 0] },
  { trainId: 8, labelId: 21, name: 'vegetation', color: [107, 142, 35] },
  { trainId: 9, labelId: 22, name: 'terrain', color: [152, 251, 152] },
  { trainId: 10, labelId: 23, name: 'sky', color: [70, 130, 180] },
  { trainId: 11, labelId: 24, name: 'person', color: [220, 20, 60] },
  { trainId: 12, labelId: 25, name: 'rider', color: [255, 0, 0] },
  { trainId: 13, labelId: 26, name: 'car', color: [0, 0, 142] },
  { trainId: 14, labelId: 27, name: 'truck', color: [0, 0, 70] },
  { trainId: 15, labelId: 28, name: 'bus', color: [0, 60, 100] },
  { trainId: 16, labelId: 31, name: 'train', color: [0, 80, 100] },
  { trainId: 17, labelId: 32, name: 'motorcycle', color: [0, 0, 230] },
  { trainId: 18, labelId: 33, name: 'bicycle', color: [119, 11, 32] },
];

export const NUM_CLASSES = TRAIN_CLASSES.length;

/** Void label ids used when writing Cityscapes-style files (not part of the 19 training classes). */
export const VOID_LABEL_IDS = { unlabeled: 0, egoVehicle: 1, outOfRoi: 3 } as const;

/** SYNTHIA-RAND-CITYSCAPES class id → trainId (DATASETS.md); every other id is ignored. */
export const SYNTHIA_TO_TRAIN: Readonly<Record<number, number>> = {
  3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 16: 9, 1: 10, 10: 11, 17: 12, 8: 13, 18: 14,
  19: 15, 20: 16, 12: 17, 11: 18,
};

function buildLut(pairs: Iterable<[number, number]>, size: number): Uint8Array {
  const lut = new Uint8Array(size).fill(IGNORE);
  for (const [from, to] of pairs) lut[from] = to;
  return lut;
}

/** labelId (0..255) → trainId lookup table. */
export const LABEL_ID_TO_TRAIN_ID: Uint8Array = buildLut(
  TRAIN_CLASSES.map((c) => [c.labelId, c.trainId] as [number, number]),
  256,
);

/** trainId (0..255) → labelId lookup table; ignore maps to 0 (unlabeled). */
export const TRAIN_ID_TO_LABEL_ID: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(VOID_LABEL_IDS.unlabeled);
  for (const c of TRAIN_CLASSES) lut[c.trainId] = c.labelId;
  return lut;
})();

/** SYNTHIA class id (16-bit first channel) → trainId lookup table. */
export const SYNTHIA_ID_TO_TRAIN_ID: Uint8Array = buildLut(
  Object.entries(SYNTHIA_TO_TRAIN).map(([k, v]) => [Number(k), v] as [number, number]),
  256,
);

export function labelIdsToTrainIds(labelIds: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(labelIds.length);
  for (let i = 0; i < labelIds.length; i++) out[i] = LABEL_ID_TO_TRAIN_ID[labelIds[i]! & 255]!;
  return out;
}

export function trainIdsToLabelIds(trainIds: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(trainIds.length);
  for (let i = 0; i < trainIds.length; i++) out[i] = TRAIN_ID_TO_LABEL_ID[trainIds[i]! & 255]!;
  return out;
}

export function synthiaIdsToTrainIds(ids: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    out[i] = id < 256 ? SYNTHIA_ID_TO_TRAIN_ID[id]! : IGNORE;
  }
  return out;
}

/** RGBA overlay of a trainId map in the Cityscapes palette; ignore pixels are transparent. */
export function colorizeTrainIds(trainIds: ArrayLike<number>, alpha = 255): Uint8ClampedArray {
  return paint(trainIds, new Uint8ClampedArray(trainIds.length * 4), 4, alpha);
}

/** RGB in the Cityscapes palette, ignore black, as in the official `_color.png` files. */
export function colorizeTrainIdsRgb(trainIds: ArrayLike<number>): Uint8Array {
  return paint(trainIds, new Uint8Array(trainIds.length * 3), 3, 0);
}

function paint<T extends Uint8Array | Uint8ClampedArray>(trainIds: ArrayLike<number>, out: T, channels: 3 | 4, alpha: number): T {
  for (let i = 0; i < trainIds.length; i++) {
    const cls = TRAIN_CLASSES[trainIds[i]!];
    if (!cls) continue;
    out[i * channels] = cls.color[0];
    out[i * channels + 1] = cls.color[1];
    out[i * channels + 2] = cls.color[2];
    if (channels === 4) out[i * channels + 3] = alpha;
  }
  return out;
}

/** Evaluation protocols: which trainIds each one scores (DATASETS.md). */
export const PROTOCOL_CLASSES = {
  19: TRAIN_CLASSES.map((c) => c.trainId),
  16: TRAIN_CLASSES.map((c) => c.trainId).filter((id) => ![9, 14, 16].includes(id)),
  13: TRAIN_CLASSES.map((c) => c.trainId).filter((id) => ![9, 14, 16, 3, 4, 5].includes(id)),
} as const;
