import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { applyDelta, decodeDelta, deltaFromIndices, encodeDelta, type LabelPlanes } from '../../shared/labelDelta';
import { join } from 'node:path';
import { importDataset } from '../datasets/importDataset';
import { readCorrection } from '../store/correctionsRepo';
import { getImage } from '../store/datasetsRepo';
import { correctionBudget } from './budget';
import { modelLabelsAtNativeSize } from './modelLabels';
import { readHumanLabels } from './roundCorrections';
import { applyStroke, getCorrectionState, redoStroke, STALE_MESSAGE, undoStroke, type CorrectionImage } from './strokes';
import { addDoneRound, addTargetDataset, createTestProject, writeCityscapes, writePng, type TestProject } from '../testFixtures/project';

const W = 16;
const H = 8;
let p: TestProject;
let image: CorrectionImage;
let datasetId: number;
let imageIds: number[];

beforeEach(async () => {
  p = createTestProject();
  ({ datasetId, imageIds } = await addTargetDataset(p, 'cs', 3, W, H));
  image = getImage(p.db, imageIds[0]!)!;
});
afterEach(() => p.close());

/** A delta setting pixels [from, to) to `classId` as human labels. */
const paint = (from: number, to: number, classId: number) =>
  encodeDelta(deltaFromIndices(Array.from({ length: to - from }, (_, k) => from + k), () => classId, () => 1));

const stroke = (baseRevision: number, delta: Uint8Array, baseRoundId: number | null = null) =>
  applyStroke(p.db, image, { baseRevision, baseRoundId, tool: 'brush', classId: 1, delta, ms: 250 });

/** What the client holds: it applies its own strokes and the deltas undo/redo send back. */
function clientPlanes(labels: Uint8Array): LabelPlanes {
  return { labels: labels.slice(), human: new Uint8Array(labels.length) };
}
const apply = (planes: LabelPlanes, bytes: Uint8Array) => applyDelta(planes, decodeDelta(bytes, W * H));

function expectServerEquals(client: LabelPlanes) {
  const stored = readCorrection(p.db, image.id)!;
  expect(Array.from(stored.labels)).toEqual(Array.from(client.labels));
  expect(Array.from(stored.human)).toEqual(Array.from(client.human));
}

/** The stored revision: what a client that saw every change would send. */
const rev = () => getCorrectionState(p.db, image).revision;

const snapshot = () => ({
  row: p.db.prepare('SELECT * FROM corrections WHERE image_id = ?').get(image.id),
  strokes: p.db.prepare('SELECT * FROM correction_strokes WHERE image_id = ? ORDER BY seq').all(image.id),
});

describe('corrections: strokes, undo and budget', () => {
  it('reports version 0 for an image nobody edited', () => {
    expect(getCorrectionState(p.db, image)).toMatchObject({ imageId: image.id, width: W, height: H, version: 0, humanPixels: 0, canUndo: false, canRedo: false, strokes: 0 });
    expect(readCorrection(p.db, image.id)).toBeNull();
  });

  it('starts from "ignore" without a round, and from the round prediction upsampled to the image size', () => {
    const client = clientPlanes(new Uint8Array(W * H).fill(255));
    const d = paint(3, 9, 4);
    apply(client, d);
    expect(stroke(0, d)).toMatchObject({ version: 1, humanPixels: 6, canUndo: true, canRedo: false, strokes: 1, secondsSpent: 0.25, baseRoundId: null });
    expectServerEquals(client);

    // A second image, corrected from a round that predicted at half size.
    const roundId = addDoneRound(p.db, datasetId, imageIds, { width: W / 2, height: H / 2 }, () => Uint8Array.from({ length: (W * H) / 4 }, (_, i) => i % 19));
    const model = modelLabelsAtNativeSize(p.db, roundId, imageIds[1]!, W, H);
    expect(model[0]).toBe(0);
    expect(model[1]).toBe(0); // pixel 1 reads source pixel 0 at half size
    expect(model[2]).toBe(1);
    expect(model[W]).toBe(0); // row 1 reads source row 0
    expect(model[2 * W + 2]).toBe(9); // source (1, 1) = index 9
    image = getImage(p.db, imageIds[1]!)!;
    const second = clientPlanes(model);
    const d2 = paint(0, 2, 13);
    apply(second, d2);
    expect(stroke(0, d2, roundId)).toMatchObject({ version: 1, baseRoundId: roundId, humanPixels: 2 });
    expectServerEquals(second);
    expect(readHumanLabels(p.db, image.id)!.data.slice(0, 4)).toEqual(Uint8Array.from([13, 13, 255, 255]));
  });

  it('undoes and redoes stroke by stroke, and a new stroke after an undo drops the redo line', () => {
    const client = clientPlanes(new Uint8Array(W * H).fill(255));
    const deltas = [paint(0, 10, 1), paint(5, 20, 2), paint(15, 30, 3)];
    deltas.forEach((d, v) => {
      apply(client, d);
      stroke(v, d);
    });
    const before = clientPlanes(client.labels);
    before.human = client.human.slice();

    const undone = undoStroke(p.db, image, 3);
    expect(undone.state).toMatchObject({ version: 2, canUndo: true, canRedo: true, strokes: 3, humanPixels: 20 });
    apply(client, undone.delta);
    expectServerEquals(client);

    const redone = redoStroke(p.db, image, rev());
    expect(redone.state).toMatchObject({ version: 3, canRedo: false, humanPixels: 30 });
    apply(client, redone.delta);
    expect(client).toEqual(before);
    expectServerEquals(client);

    apply(client, undoStroke(p.db, image, rev()).delta);
    apply(client, undoStroke(p.db, image, rev()).delta);
    const d = paint(40, 42, 7);
    apply(client, d);
    expect(stroke(rev(), d)).toMatchObject({ version: 2, canRedo: false, canUndo: true, strokes: 2, humanPixels: 12 });
    expectServerEquals(client);
    expect(() => redoStroke(p.db, image, rev())).toThrow(/nothing to redo/);
    expect(p.db.prepare('SELECT seq, undone FROM correction_strokes WHERE image_id = ? ORDER BY seq').all(image.id)).toEqual([
      { seq: 1, undone: 0 },
      { seq: 2, undone: 0 },
    ]);
  });

  it('keeps more than 100 undo steps, across closing and reopening the project', () => {
    const initial = new Uint8Array(W * H).fill(255);
    const client = clientPlanes(initial);
    const steps = 120;
    for (let v = 0; v < steps; v++) {
      const at = (v * 5) % (W * H - 3);
      const d = paint(at, at + 3, v % 19);
      apply(client, d);
      stroke(v, d);
    }
    expectServerEquals(client);
    p.reopen();
    expect(getCorrectionState(p.db, image)).toMatchObject({ version: steps, strokes: steps, canUndo: true });
    for (let v = steps; v > 0; v--) apply(client, undoStroke(p.db, image, rev()).delta);
    expect(Array.from(client.labels)).toEqual(Array.from(initial));
    expect(getCorrectionState(p.db, image)).toMatchObject({ version: 0, humanPixels: 0, canUndo: false, canRedo: true });
    expectServerEquals(client);
    expect(() => undoStroke(p.db, image, rev())).toThrow(/nothing to undo/);
    p.reopen();
    for (let v = 0; v < steps; v++) apply(client, redoStroke(p.db, image, rev()).delta);
    expectServerEquals(client);
    expect(getCorrectionState(p.db, image)).toMatchObject({ version: steps, canRedo: false });
  });

  it('refuses a stale version, a malformed delta and a foreign base round, writing nothing', async () => {
    stroke(0, paint(0, 4, 1));
    stroke(1, paint(4, 8, 2));
    const before = snapshot();
    const refused = (run: () => unknown, message: RegExp | string) => {
      expect(run).toThrow(UserError);
      expect(run).toThrow(message);
      expect(snapshot()).toEqual(before);
    };
    refused(() => stroke(1, paint(8, 9, 3)), STALE_MESSAGE);
    refused(() => stroke(5, paint(8, 9, 3)), STALE_MESSAGE);
    refused(() => undoStroke(p.db, image, 1), STALE_MESSAGE);
    refused(() => redoStroke(p.db, image, 3), STALE_MESSAGE);
    refused(() => stroke(2, paint(W * H - 2, W * H + 1, 3)), /outside the image/);
    refused(() => stroke(2, paint(0, 2, 30)), /class id 30 is not in the palette/);
    refused(() => stroke(2, Uint8Array.from([1, 2, 3])), /could not be read/);
    const other = await addTargetDataset(p, 'other', 1, W, H);
    const foreign = addDoneRound(p.db, other.datasetId, other.imageIds, { width: W, height: H }, () => new Uint8Array(W * H));
    refused(() => stroke(2, paint(8, 9, 3), foreign), /not adapted to this image's dataset/);
    refused(() => stroke(2, paint(8, 9, 3), 999), /no round 999/);
    // The image was re-imported at another size: the stored correction no longer lines up with it.
    refused(() => applyStroke(p.db, { ...image, width: W * 2 }, { baseRevision: 2, baseRoundId: null, tool: 'fill', classId: 3, delta: paint(8, 9, 3), ms: 0 }), /file changed on disk/);
  });

  it('refuses an edit from a window that missed an undo and a new stroke, though the undo depth matches again', () => {
    stroke(0, paint(0, 4, 1));
    const windowA = getCorrectionState(p.db, image); // version 1, revision 1
    undoStroke(p.db, image, rev()); // window B undoes…
    stroke(rev(), paint(4, 8, 2)); // …and draws: version is 1 again
    expect(getCorrectionState(p.db, image)).toMatchObject({ version: windowA.version, revision: 3 });
    const before = snapshot();
    expect(() => stroke(windowA.revision, paint(8, 9, 3))).toThrow(STALE_MESSAGE);
    expect(snapshot()).toEqual(before);
  });

  it('starts over from another round once every stroke is undone', () => {
    stroke(0, paint(0, 4, 1));
    undoStroke(p.db, image, 1);
    const roundId = addDoneRound(p.db, datasetId, imageIds, { width: W, height: H }, () => new Uint8Array(W * H).fill(8));
    expect(stroke(rev(), paint(0, 1, 2), roundId)).toMatchObject({ version: 1, baseRoundId: roundId, strokes: 1, humanPixels: 1, secondsSpent: 0.5 });
    const labels = readCorrection(p.db, image.id)!.labels;
    expect([labels[0], labels[1], labels[W * H - 1]]).toEqual([2, 8, 8]);
  });

  it('sums corrected pixels against the dataset\'s pixels for the budget', () => {
    expect(correctionBudget(p.db, datasetId)).toEqual({ datasetId, correctedPixels: 0, totalPixels: 3 * W * H, correctedImages: 0, images: 3, share: 0, otherSplitPixels: 0 });
    stroke(0, paint(0, 32, 1));
    image = getImage(p.db, imageIds[2]!)!;
    stroke(0, paint(0, 16, 1));
    // Erasing back to the model's label is not a correction.
    stroke(1, encodeDelta(deltaFromIndices([0, 1, 2, 3], () => 255, () => 0)));
    expect(correctionBudget(p.db, datasetId)).toEqual({ datasetId, correctedPixels: 44, totalPixels: 384, correctedImages: 2, images: 3, share: 44 / 384, otherSplitPixels: 0 });
  });

  it('counts only the train split in the budget, and human pixels on val and test images apart', async () => {
    // 2 train images, a val and a twice-as-large test image.
    const folder = join(p.dir, 'splits');
    writeCityscapes(folder, 2, W, H);
    writePng(join(folder, 'leftImg8bit', 'val', 'frankfurt', 'frankfurt_000000_000019_leftImg8bit.png'), W, H, 3, () => 90);
    writePng(join(folder, 'leftImg8bit', 'test', 'berlin', 'berlin_000000_000019_leftImg8bit.png'), 2 * W, H, 3, () => 40);
    const { datasetId: splits } = await importDataset(p.db, folder, { projectDir: p.projectDir });
    const byName = (name: string) => getImage(p.db, (p.db.prepare('SELECT id FROM images WHERE dataset_id = ? AND name LIKE ?').get(splits, `${name}%`) as { id: number }).id)!;
    const [train0, val, test] = [byName('aachen_000000'), byName('frankfurt_000000'), byName('berlin_000000')];
    expect([train0.split, val.split, test.split]).toEqual(['train', 'val', 'test']);
    const paintOn = (target: CorrectionImage, from: number, to: number) =>
      applyStroke(p.db, target, { baseRevision: 0, baseRoundId: null, tool: 'brush', classId: 1, delta: paint(from, to, 1), ms: 0 });
    paintOn(val, 0, 100);
    paintOn(test, 0, 200);
    expect(correctionBudget(p.db, splits)).toEqual({ datasetId: splits, correctedPixels: 0, totalPixels: 2 * W * H, correctedImages: 0, images: 2, share: 0, otherSplitPixels: 300 });
    paintOn(train0, 0, 16);
    expect(correctionBudget(p.db, splits)).toEqual({
      datasetId: splits, correctedPixels: 16, totalPixels: 2 * W * H, correctedImages: 1, images: 2, share: 16 / (2 * W * H), otherSplitPixels: 300,
    });
  });
});
