// IoU metrics from a confusion matrix (see confusion.ts for its layout), as cityscapesScripts computes them:
// IoU_c = TP / (TP + FP + FN), a fraction in [0, 1].
//   TP = m[c][c]
//   FP = pixels of any other evaluated ground-truth class predicted as c (column c without the diagonal)
//   FN = pixels of ground-truth class c predicted as anything else, including a non-class (row c without TP)
// A class with TP + FP + FN = 0 (absent from ground truth and prediction) is null and left out of every mean.
//
// The 16- and 13-class protocols (SYNTHIA) average the per-class IoUs of the one 19-class matrix over their
// classes (PROTOCOL_CLASSES), as CorDA/AdaptSegNet-style evaluations do: the matrix is not re-cut, so e.g. a
// terrain pixel predicted as road still counts as a false positive for road in mIoU16, and a road pixel
// predicted as terrain still counts as a false negative for road. Each class has a single IoU in every protocol.
import { NUM_CLASSES, PROTOCOL_CLASSES, TRAIN_CLASSES } from '../../shared/labels';
import { CONFUSION_COLS, type ConfusionMatrix } from './confusion';

export interface Metrics {
  /** Mean IoU over the 19 classes present in ground truth or prediction; null when none is. */
  mIoU: number | null;
  /** Mean IoU over PROTOCOL_CLASSES[16] (no terrain, truck, train). */
  mIoU16: number | null;
  /** Mean IoU over PROTOCOL_CLASSES[13] (also no wall, fence, pole). */
  mIoU13: number | null;
  /** IoU per class name (TRAIN_CLASSES order); null for a class absent from ground truth and prediction. */
  perClass: Record<string, number | null>;
}

/** Per-trainId IoU (index = trainId), null where the class has no pixels in ground truth nor prediction. */
export function classIoUs(matrix: ConfusionMatrix): (number | null)[] {
  if (matrix.length !== NUM_CLASSES * CONFUSION_COLS) {
    throw new Error(`confusion matrix must have ${NUM_CLASSES * CONFUSION_COLS} entries, got ${matrix.length}`);
  }
  const ious: (number | null)[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const tp = matrix[c * CONFUSION_COLS + c]!;
    let row = 0; // every pixel of gt class c (incl. misses)
    for (let p = 0; p < CONFUSION_COLS; p++) row += matrix[c * CONFUSION_COLS + p]!;
    let col = 0; // every evaluated pixel predicted as c
    for (let g = 0; g < NUM_CLASSES; g++) col += matrix[g * CONFUSION_COLS + c]!;
    const denom = row + col - tp; // TP + FN + FP
    ious.push(denom > 0 ? tp / denom : null);
  }
  return ious;
}

function meanOver(ious: (number | null)[], ids: readonly number[]): number | null {
  let sum = 0;
  let n = 0;
  for (const id of ids) {
    const v = ious[id];
    if (v === null || v === undefined) continue;
    sum += v;
    n++;
  }
  return n > 0 ? sum / n : null;
}

export function computeMetrics(matrix: ConfusionMatrix): Metrics {
  const ious = classIoUs(matrix);
  const perClass: Record<string, number | null> = {};
  for (const c of TRAIN_CLASSES) perClass[c.name] = ious[c.trainId] ?? null;
  return {
    mIoU: meanOver(ious, PROTOCOL_CLASSES[19]),
    mIoU16: meanOver(ious, PROTOCOL_CLASSES[16]),
    mIoU13: meanOver(ious, PROTOCOL_CLASSES[13]),
    perClass,
  };
}

const pct = (v: number | null): string => (v === null ? 'n/a' : (v * 100).toFixed(2));

/**
 * A readable, aligned text table: per-class IoU in percent ("n/a" for an absent class), then the three means.
 * Classes outside the 16- or 13-class protocol are marked in the last column.
 */
export function formatMetricsTable(metrics: Metrics): string {
  const in16 = new Set<number>(PROTOCOL_CLASSES[16]);
  const in13 = new Set<number>(PROTOCOL_CLASSES[13]);
  const nameWidth = Math.max(...TRAIN_CLASSES.map((c) => c.name.length), 'mIoU (19 classes)'.length);
  const valueWidth = 8;
  const line = (label: string, value: string, note = ''): string =>
    `${label.padEnd(nameWidth)}  ${value.padStart(valueWidth)}${note ? `  ${note}` : ''}`;
  const rows = [line('class', 'IoU (%)'), '-'.repeat(nameWidth + 2 + valueWidth)];
  for (const c of TRAIN_CLASSES) {
    const note = !in16.has(c.trainId) ? 'not in 16/13' : !in13.has(c.trainId) ? 'not in 13' : '';
    rows.push(line(c.name, pct(metrics.perClass[c.name] ?? null), note));
  }
  rows.push('-'.repeat(nameWidth + 2 + valueWidth));
  rows.push(line('mIoU (19 classes)', pct(metrics.mIoU)));
  rows.push(line('mIoU (16 classes)', pct(metrics.mIoU16)));
  rows.push(line('mIoU (13 classes)', pct(metrics.mIoU13)));
  return rows.join('\n');
}
