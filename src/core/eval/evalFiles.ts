// Evaluates a folder of prediction PNGs against Cityscapes gtFine ground truth, as cityscapesScripts'
// evalPixelLevelSemanticLabeling does (DATASETS.md, "Evaluation"): every `<stem>_gtFine_labelIds.png` needs one
// prediction named `*<stem>*.png` anywhere under the prediction folder (a single-channel PNG: 8-bit grey or a
// palette index), holding labelIds (the official results format) or trainIds. A prediction smaller than its
// ground truth is upsampled by nearest neighbour; one of another aspect ratio or larger is refused.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { decode } from 'fast-png';
import { UserError } from '../../shared/api';
import { IGNORE, LABEL_ID_TO_TRAIN_ID } from '../../shared/labels';
import { accumulate, createConfusion, type ConfusionMatrix } from './confusion';
import { computeMetrics, type Metrics } from './metrics';
import { isScaledSize, upsampleNearest } from '../raster/resize';

export type PredictionFormat = 'labelIds' | 'trainIds';

export interface EvaluateFilesOptions {
  /** A gtFine folder, its parent (holding `gtFine/`), or a split/city folder inside it. */
  gtDir: string;
  /** Folder searched recursively for `*<stem>*.png` predictions. */
  predDir: string;
  /** What the prediction pixels hold; default 'labelIds' (the cityscapesScripts results format). */
  format?: PredictionFormat;
  /** Called after each image: images done so far, total images. */
  onProgress?: (done: number, total: number) => void;
  /** Images decoded at once (default 4). */
  concurrency?: number;
  /** Evaluate the images that have a prediction and list the others in `missing` instead of failing. */
  allowMissing?: boolean;
}

export interface EvaluateFilesResult {
  metrics: Metrics;
  /** Images evaluated. */
  images: number;
  /** Stems without a prediction (always empty unless allowMissing). */
  missing: string[];
  /** The summed confusion matrix (see confusion.ts). */
  confusion: ConfusionMatrix;
}

const GT_SUFFIX = '_gtFine_labelIds.png';

interface LabelImage {
  width: number;
  height: number;
  /** First channel of every pixel, unpacked to one value per pixel. */
  values: Uint8Array | Uint16Array;
}

/** Decodes a label PNG to one value per pixel (grey value or palette index; first channel otherwise). */
export function decodeLabelPng(png: Uint8Array, what: string, allowColor = false): LabelImage {
  let img: ReturnType<typeof decode>;
  try {
    img = decode(png);
  } catch (err) {
    throw new UserError(`${what} is not a readable PNG (${(err as Error).message}): re-save it as a PNG.`);
  }
  const { width, height, channels, depth, data } = img;
  if (channels >= 3 && !allowColor) {
    throw new UserError(
      `${what} is a colour image: save predictions as single-channel PNGs (8-bit grey or palette) holding class ids.`,
    );
  }
  const n = width * height;
  if (depth >= 8) {
    if (channels === 1) return { width, height, values: data as Uint8Array | Uint16Array };
    const values = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) values[i] = data[i * channels]!;
    return { width, height, values };
  }
  // 1/2/4-bit grey or palette: rows are packed, each starting on a byte boundary.
  const bytesPerRow = Math.ceil((width * depth * channels) / 8);
  const mask = (1 << depth) - 1;
  const values = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth * channels;
      const byte = data[y * bytesPerRow + (bit >> 3)]!;
      values[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return { width, height, values };
}

function toTrainIds(values: Uint8Array | Uint16Array, lut: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v > 255 ? IGNORE : lut ? lut[v]! : v;
  }
  return out;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Every file under `dir` (recursively, following symlinked folders) whose name passes `keep`. */
async function walk(dir: string, keep: (name: string) => boolean, out: string[] = []): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    let directory = e.isDirectory();
    let file = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const s = await stat(path);
        directory = s.isDirectory();
        file = s.isFile();
      } catch {
        continue;
      }
    }
    if (directory) await walk(path, keep, out);
    else if (file && keep(e.name)) out.push(path);
  }
  return out;
}

/**
 * The ground-truth files to evaluate. `gtDir` may be the parent of `gtFine/`, the gtFine folder, or a folder
 * inside it. When the folder holds a `val` split, only val is evaluated (cityscapesScripts' default; the test
 * split's ground truth is empty); otherwise every `*_gtFine_labelIds.png` below it.
 */
export async function findGroundTruth(gtDir: string): Promise<string[]> {
  if (!(await isDir(gtDir))) throw new UserError(`The ground-truth folder ${gtDir} does not exist.`);
  let root = gtDir;
  if (await isDir(join(root, 'gtFine'))) root = join(root, 'gtFine');
  if (await isDir(join(root, 'val'))) {
    const val = await walk(join(root, 'val'), (n) => n.endsWith(GT_SUFFIX));
    if (val.length) return val;
  }
  const files = await walk(root, (n) => n.endsWith(GT_SUFFIX));
  if (!files.length) {
    throw new UserError(
      `No ground-truth files (*${GT_SUFFIX}) in ${gtDir}: pass a Cityscapes gtFine folder, its parent, or a split folder such as gtFine/val.`,
    );
  }
  return files;
}

interface Pair {
  stem: string;
  gt: string;
  pred: string;
}

/** Matches each ground-truth file to its prediction (`*<stem>*.png`); throws on missing or ambiguous ones. */
async function matchPredictions(
  gtFiles: string[],
  predDir: string,
  allowMissing: boolean,
): Promise<{ pairs: Pair[]; missing: string[] }> {
  if (!(await isDir(predDir))) throw new UserError(`The prediction folder ${predDir} does not exist.`);
  const preds = await walk(predDir, (n) => n.toLowerCase().endsWith('.png'));
  const predNames = preds.map((p) => basename(p));
  const pairs: Pair[] = [];
  const missing: string[] = [];
  for (const gt of gtFiles) {
    const stem = basename(gt).slice(0, -GT_SUFFIX.length);
    const found: string[] = [];
    for (let i = 0; i < preds.length; i++) if (predNames[i]!.includes(stem)) found.push(preds[i]!);
    if (found.length === 0) missing.push(stem);
    else if (found.length > 1) {
      const names = found.slice(0, 3).map((f) => relative(predDir, f));
      throw new UserError(
        `${found.length} predictions in ${predDir} match ${stem} (${names.join(', ')}${found.length > 3 ? ', …' : ''}): keep one PNG per image.`,
      );
    } else pairs.push({ stem, gt, pred: found[0]! });
  }
  if (missing.length && !allowMissing) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
    throw new UserError(`No prediction for ${missing[0]}${more} in ${predDir}: results must be named <stem>*.png.`);
  }
  return { pairs, missing };
}

async function evaluatePair(pair: Pair, format: PredictionFormat, matrix: ConfusionMatrix): Promise<void> {
  const [gtPng, predPng] = await Promise.all([readFile(pair.gt), readFile(pair.pred)]);
  // Ground truth: Cityscapes labelIds (first channel if the file has more).
  const gt = decodeLabelPng(gtPng, `Ground-truth file ${pair.gt}`, true);
  const gtIds = toTrainIds(gt.values, LABEL_ID_TO_TRAIN_ID);
  const pred = decodeLabelPng(predPng, `Prediction ${pair.pred}`);
  const W = gt.width;
  const H = gt.height;
  if (pred.width > W || pred.height > H) {
    throw new UserError(
      `Prediction ${pair.pred} is ${pred.width}x${pred.height}, larger than its ground truth (${W}x${H}): save predictions at the ground-truth size.`,
    );
  }
  if (!isScaledSize(pred.width, pred.height, W, H)) {
    throw new UserError(
      `Prediction ${pair.pred} is ${pred.width}x${pred.height}, which is not a scaled ${W}x${H} ground truth: save predictions at the ground-truth size.`,
    );
  }
  const values = upsampleNearest(pred.values, pred.width, pred.height, W, H);
  const predIds = toTrainIds(values, format === 'labelIds' ? LABEL_ID_TO_TRAIN_ID : null);
  accumulate(matrix, gtIds, predIds);
}

/** Scores a folder of predictions against gtFine ground truth; see the file comment for the conventions. */
export async function evaluateFiles(options: EvaluateFilesOptions): Promise<EvaluateFilesResult> {
  const format = options.format ?? 'labelIds';
  if (format !== 'labelIds' && format !== 'trainIds') {
    throw new UserError(`Unknown prediction format "${String(format)}": use labelIds or trainIds.`);
  }
  const gtFiles = await findGroundTruth(options.gtDir);
  const { pairs, missing } = await matchPredictions(gtFiles, options.predDir, options.allowMissing ?? false);
  const matrix = createConfusion();
  const total = pairs.length;
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < total && !failed) {
      const pair = pairs[next++]!;
      try {
        await evaluatePair(pair, format, matrix);
      } catch (err) {
        failed = true; // the other workers stop at their next image
        throw err;
      }
      done++;
      options.onProgress?.(done, total);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, total));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { metrics: computeMetrics(matrix), images: total, missing, confusion: matrix };
}
