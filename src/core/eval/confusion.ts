// Confusion counts for semantic-segmentation evaluation (DATASETS.md, "Evaluation"). Rows are the ground-truth
// trainId (0..18), columns the predicted trainId (0..18) plus one extra column, MISS_COLUMN, for predictions
// that are not one of the 19 classes (255 or any other value): those pixels are false negatives for their
// ground-truth class and false positives for no class, as cityscapesScripts counts a void prediction.
// Pixels whose ground truth is not one of the 19 trainIds (IGNORE = 255, anything else) are not counted.
// Counts are kept in a Float64Array: exact up to 2^53, so a whole dataset of full-size images never overflows.
import { NUM_CLASSES } from '../../shared/labels';

/** Number of columns: the 19 predicted classes plus the miss column. */
export const CONFUSION_COLS = NUM_CLASSES + 1;
/** Column index counting predictions that are not one of the 19 classes. */
export const MISS_COLUMN = NUM_CLASSES;

/** A NUM_CLASSES x CONFUSION_COLS row-major matrix: `m[gt * CONFUSION_COLS + pred]`. */
export type ConfusionMatrix = Float64Array;

export function createConfusion(): ConfusionMatrix {
  return new Float64Array(NUM_CLASSES * CONFUSION_COLS);
}

/** prediction value (0..65535) → column; everything that is not a class goes to MISS_COLUMN. */
const PRED_COLUMN: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(MISS_COLUMN);
  for (let c = 0; c < NUM_CLASSES; c++) lut[c] = c;
  return lut;
})();

/**
 * Adds one image's pixels to `matrix`. `gt` and `pred` are trainId maps of the same length (same size image).
 * Values of `pred` above 255 (16-bit inputs) count as misses.
 */
export function accumulate(
  matrix: ConfusionMatrix,
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
): ConfusionMatrix {
  if (matrix.length !== NUM_CLASSES * CONFUSION_COLS) {
    throw new Error(`confusion matrix must have ${NUM_CLASSES * CONFUSION_COLS} entries, got ${matrix.length}`);
  }
  const n = gt.length;
  if (pred.length !== n) throw new Error(`ground truth has ${n} pixels but the prediction has ${pred.length}`);
  // Count per image in 32-bit integers (an image has far fewer than 2^32 pixels), then add to the Float64 total.
  const counts = new Uint32Array(NUM_CLASSES * CONFUSION_COLS);
  for (let i = 0; i < n; i++) {
    const g = gt[i]!;
    if (g >= NUM_CLASSES) continue;
    const p = pred[i]!;
    counts[g * CONFUSION_COLS + (p < 256 ? PRED_COLUMN[p]! : MISS_COLUMN)]!++;
  }
  for (let k = 0; k < counts.length; k++) matrix[k]! += counts[k]!;
  return matrix;
}

/** Adds `b` into `a` (element-wise) and returns `a`. */
export function mergeInto(a: ConfusionMatrix, b: ConfusionMatrix): ConfusionMatrix {
  if (a.length !== b.length) throw new Error(`cannot merge confusion matrices of ${a.length} and ${b.length} entries`);
  for (let k = 0; k < a.length; k++) a[k]! += b[k]!;
  return a;
}
