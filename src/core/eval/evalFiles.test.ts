import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode } from 'fast-png';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { TRAIN_CLASSES, TRAIN_ID_TO_LABEL_ID } from '../../shared/labels';
import { decodeLabelPng, evaluateFiles } from './evalFiles';

let dir: string;

function writePng(path: string, width: number, height: number, values: number[], extra: object = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encode({ width, height, data: Uint8Array.from(values), channels: 1, depth: 8, ...extra }));
}
const toLabelIds = (trainIds: number[]): number[] => trainIds.map((t) => TRAIN_ID_TO_LABEL_ID[t]!);
const palette256 = Array.from({ length: 256 }, (_, i) => [i, 255 - i, (i * 7) & 255]);

// Two val images (4x2), in labelIds:
//   A frankfurt_000000_000001: gt trainIds [0, 0, 1, 255 | 13, 13, 2, 0]
//                              pred        [0, 1, 1, 13  | 13, 0, 2, 255(void)]
//   B lindau_000000_000019:    gt trainIds [10, 10, 10, 10 | 0, 0, 13, 13]
//                              pred 2x1    [10, 0] → upsampled [10, 10, 0, 0 | 10, 10, 0, 0]
// Pairs (gt, pred): A (0,0) (0,1) (1,1) (13,13) (13,0) (2,2) (0,miss), ignore pixel skipped;
//                   B (10,10)x2 (10,0)x2 (0,10)x2 (13,0)x2.
// road:     TP 1, FP 5 (A 13→0, B 10→0 x2, 13→0 x2), FN 4 (→1, →miss, →10 x2)  → 1/10
// sidewalk: TP 1, FP 1, FN 0 → 1/2;   building: TP 1 → 1
// sky:      TP 2, FP 2, FN 2 → 1/3;   car: TP 1, FP 0 (pred car on ignore is skipped), FN 3 → 1/4
const GT_A = [0, 0, 1, 255, 13, 13, 2, 0];
const PRED_A = [0, 1, 1, 13, 13, 0, 2, 255];
const GT_B = [10, 10, 10, 10, 0, 0, 13, 13];
const PRED_B = [10, 0];
const EXPECTED: Record<string, number> = { road: 0.1, sidewalk: 0.5, building: 1, sky: 1 / 3, car: 0.25 };
const EXPECTED_MEAN = (0.1 + 0.5 + 1 + 1 / 3 + 0.25) / 5;

function writeGt(root: string): void {
  writePng(join(root, 'gtFine/val/frankfurt/frankfurt_000000_000001_gtFine_labelIds.png'), 4, 2, toLabelIds(GT_A));
  writePng(join(root, 'gtFine/val/lindau/lindau_000000_000019_gtFine_labelIds.png'), 4, 2, toLabelIds(GT_B));
  // not evaluated: other files next to the gt, and the train split (val wins, as in cityscapesScripts)
  writePng(join(root, 'gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png'), 4, 2, GT_B);
  writePng(join(root, 'gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png'), 4, 2, toLabelIds(GT_B));
}

function expectExact(result: Awaited<ReturnType<typeof evaluateFiles>>): void {
  expect(result.images).toBe(2);
  expect(result.missing).toEqual([]);
  for (const c of TRAIN_CLASSES) {
    const want = EXPECTED[c.name];
    if (want === undefined) expect(result.metrics.perClass[c.name]).toBeNull();
    else expect(result.metrics.perClass[c.name]).toBeCloseTo(want, 12);
  }
  expect(result.metrics.mIoU).toBeCloseTo(EXPECTED_MEAN, 12);
  expect(result.metrics.mIoU16).toBeCloseTo(EXPECTED_MEAN, 12);
  expect(result.metrics.mIoU13).toBeCloseTo(EXPECTED_MEAN, 12);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corda-eval-'));
  writeGt(join(dir, 'cs'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('evaluateFiles', () => {
  it('scores labelIds predictions (one at half resolution, in a subfolder) exactly', async () => {
    const pred = join(dir, 'pred');
    writePng(join(pred, 'frankfurt_000000_000001_leftImg8bit.png'), 4, 2, toLabelIds(PRED_A).map((v, i) => (i === 7 ? 0 : v)));
    writePng(join(pred, 'lindau/lindau_000000_000019.png'), 2, 1, toLabelIds(PRED_B));
    const progress: [number, number][] = [];
    const result = await evaluateFiles({
      gtDir: join(dir, 'cs'),
      predDir: pred,
      format: 'labelIds',
      onProgress: (done, total) => progress.push([done, total]),
    });
    expectExact(result);
    expect(progress).toEqual([[1, 2], [2, 2]]);
  });

  it('scores trainIds predictions (palette and grey) the same, from a gtFine or split folder', async () => {
    const pred = join(dir, 'pred');
    writePng(join(pred, 'frankfurt_000000_000001_pred.png'), 4, 2, PRED_A, { palette: palette256 });
    writePng(join(pred, 'lindau_000000_000019_pred.png'), 2, 1, PRED_B);
    expectExact(await evaluateFiles({ gtDir: join(dir, 'cs/gtFine'), predDir: pred, format: 'trainIds' }));
    expectExact(await evaluateFiles({ gtDir: join(dir, 'cs/gtFine/val'), predDir: pred, format: 'trainIds', concurrency: 1 }));
  });

  it('fails when a prediction is missing, naming the first and counting the rest', async () => {
    const pred = join(dir, 'pred');
    mkdirSync(pred);
    const err = await evaluateFiles({ gtDir: join(dir, 'cs'), predDir: pred }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(
      `No prediction for frankfurt_000000_000001 (and 1 more) in ${pred}: results must be named <stem>*.png.`,
    );
  });

  it('can skip missing predictions and list them instead', async () => {
    const pred = join(dir, 'pred');
    writePng(join(pred, 'lindau_000000_000019.png'), 4, 2, toLabelIds(GT_B));
    const result = await evaluateFiles({ gtDir: join(dir, 'cs'), predDir: pred, allowMissing: true });
    expect(result.images).toBe(1);
    expect(result.missing).toEqual(['frankfurt_000000_000001']);
    expect(result.metrics.mIoU).toBe(1);
  });

  it('fails on a folder without gtFine label files', async () => {
    mkdirSync(join(dir, 'empty/gtFine/val/x'), { recursive: true });
    writeFileSync(join(dir, 'empty/gtFine/val/x/readme.txt'), 'nothing');
    await expect(evaluateFiles({ gtDir: join(dir, 'empty'), predDir: dir })).rejects.toThrow(UserError);
    await expect(evaluateFiles({ gtDir: join(dir, 'empty'), predDir: dir })).rejects.toThrow(/No ground-truth files/);
    await expect(evaluateFiles({ gtDir: join(dir, 'nope'), predDir: dir })).rejects.toThrow(/does not exist/);
  });

  it('refuses predictions that are larger, of another aspect ratio, colour, or ambiguous', async () => {
    const gtDir = join(dir, 'cs/gtFine/val/lindau');
    const run = (pred: string) => evaluateFiles({ gtDir, predDir: pred });
    writePng(join(dir, 'big/lindau_000000_000019.png'), 8, 4, new Array(32).fill(7));
    await expect(run(join(dir, 'big'))).rejects.toThrow(/lindau_000000_000019\.png is 8x4, larger than/);
    writePng(join(dir, 'square/lindau_000000_000019.png'), 2, 2, [7, 7, 7, 7]);
    await expect(run(join(dir, 'square'))).rejects.toThrow(/is 2x2, which is not a scaled 4x2/);
    mkdirSync(join(dir, 'rgb'));
    writeFileSync(
      join(dir, 'rgb/lindau_000000_000019.png'),
      encode({ width: 4, height: 2, data: new Uint8Array(24), channels: 3, depth: 8 }),
    );
    await expect(run(join(dir, 'rgb'))).rejects.toThrow(/colour image/);
    writePng(join(dir, 'two/lindau_000000_000019_a.png'), 4, 2, new Array(8).fill(7));
    writePng(join(dir, 'two/x/lindau_000000_000019_b.png'), 4, 2, new Array(8).fill(7));
    await expect(run(join(dir, 'two'))).rejects.toThrow(/2 predictions .* match lindau_000000_000019/);
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad/lindau_000000_000019.png'), 'not a png');
    await expect(run(join(dir, 'bad'))).rejects.toThrow(UserError);
  });
});

describe('decodeLabelPng', () => {
  it('unpacks 4-bit palette indices and takes the first channel of grey+alpha', () => {
    // 3x2 indices [1, 15, 3 | 0, 9, 4]; rows padded to 2 bytes
    const packed = Uint8Array.from([0x1f, 0x30, 0x09, 0x40]);
    const palette = Array.from({ length: 16 }, (_, i) => [i * 16, 0, 0]);
    const png = encode({ width: 3, height: 2, data: packed, channels: 1, depth: 4, palette });
    const img = decodeLabelPng(png, 'test');
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(Array.from(img.values)).toEqual([1, 15, 3, 0, 9, 4]);
    const ga = encode({ width: 2, height: 1, data: Uint8Array.from([26, 255, 7, 0]), channels: 2, depth: 8 });
    expect(Array.from(decodeLabelPng(ga, 'test').values)).toEqual([26, 7]);
  });
});
