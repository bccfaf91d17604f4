// A round's target samples carry the human-set labels of corrected images (255 elsewhere), at the working size.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deltaFromIndices, encodeDelta } from '../../shared/labelDelta';
import { join } from 'node:path';
import { defaultConfig } from '../adapt/config';
import { cropSample, SampleCache } from '../adapt/data';
import { startRound } from '../adapt/round';
import { importDataset } from '../datasets/importDataset';
import { initBackend } from '../model/backend';
import { getRound } from '../store/roundsRepo';
import { resizeNearest } from '../raster/resize';
import { applyStroke, undoStroke } from './strokes';
import { getImage, type StoredImage } from '../store/datasetsRepo';
import { changedSince, snapshotCorrections, trustedLabels } from './roundCorrections';
import { addTargetDataset, createTestProject, writePng, type TestProject } from '../testFixtures/project';

const W = 32;
const H = 16;
let p: TestProject;
let images: StoredImage[];

beforeEach(async () => {
  p = createTestProject();
  const { imageIds } = await addTargetDataset(p, 'cs', 3, W, H);
  images = imageIds.map((id) => getImage(p.db, id)!);
});
afterEach(() => p.close());

/** Sets the left half of rows y0..y1 to `classId` (human), and pixel `erased` back to a model label (not human). */
function correct(image: StoredImage, baseRevision: number, classId: number, y0: number, y1: number) {
  const indices: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = 0; x < W / 2; x++) indices.push(y * W + x);
  const delta = encodeDelta(deltaFromIndices(indices, (i) => (i === y0 * W ? 3 : classId), (i) => (i === y0 * W ? 0 : 1)));
  return applyStroke(p.db, image, { baseRevision, baseRoundId: null, tool: 'fill', classId, delta, ms: 10 });
}

describe('corrections in a round', () => {
  it('records which images count and loads their human labels into the target samples', async () => {
    correct(images[0]!, 0, 11, 4, 12);
    correct(images[1]!, 0, 2, 0, 2);
    undoStroke(p.db, images[1]!, 1); // corrected, then undone: nothing a person set remains

    const snapshot = snapshotCorrections(p.db, images);
    expect(snapshot).toEqual({ images: 1, pixels: 8 * (W / 2) - 1, versions: { [images[0]!.id]: 1 } });

    const cache = new SampleCache(images, W / 2, { labels: false, depth: false, trusted: trustedLabels(p.db, snapshot) });
    const sample = await cache.get(0);
    expect([sample.width, sample.height]).toEqual([W / 2, H / 2]);
    const expected = new Uint8Array(W * H).fill(255);
    for (let y = 4; y < 12; y++) for (let x = 0; x < W / 2; x++) expected[y * W + x] = 11;
    expected[4 * W] = 255; // set back to the model's label: not trusted
    expect(Array.from(sample.labels!)).toEqual(Array.from(resizeNearest(expected, W, H, W / 2, H / 2)));
    expect(sample.labels!.filter((c) => c === 11).length).toBe(4 * 8 - 1); // rows 2..5, columns 0..7, less the erased one
    expect((await cache.get(1)).labels).toBeNull();
    expect((await cache.get(2)).labels).toBeNull();

    // What a batch gets: the crop keeps the trusted labels, mirrored with the image.
    const crop = cropSample(sample, 0, 0, W / 2, H / 2, true);
    expect(crop.labels![3 * (W / 2) + (W / 2 - 1)]).toBe(11); // row 3, last column = source column 0
    expect(crop.labels![2 * (W / 2) + (W / 2 - 1)]).toBe(255); // the erased pixel
    expect(crop.labels![0]).toBe(255);
  });

  it('keeps the set of images fixed and notices edits made since the round started', () => {
    correct(images[0]!, 0, 11, 0, 4);
    const snapshot = snapshotCorrections(p.db, images);
    expect(changedSince(p.db, snapshot)).toBe(0);
    correct(images[0]!, 1, 12, 4, 6);
    correct(images[2]!, 0, 12, 4, 6);
    expect(changedSince(p.db, snapshot)).toBe(1);
    const trusted = trustedLabels(p.db, snapshot);
    expect(trusted(images[0]!)!.data[5 * W]).toBe(12); // the current labels of a snapshot image
    expect(trusted(images[2]!)).toBeNull(); // corrected after the round started: not part of it
  });

  it('records the snapshot in the round\'s config when a round starts, and none with corrections off', async () => {
    const backend = await initBackend('cpu');
    const gta = join(p.dir, 'gta');
    writePng(join(gta, 'images', '00001.png'), W, H, 3, (i) => i % 200);
    writePng(join(gta, 'labels', '00001.png'), W, H, 1, () => 7);
    const { datasetId: sourceDatasetId } = await importDataset(p.db, gta, { projectDir: p.projectDir });
    correct(images[0]!, 0, 11, 0, 4);
    const run = async (useCorrections: boolean) => {
      let roundId = 0;
      const cancelled = new AbortController();
      cancelled.abort(new Error('stop before the first step'));
      const config = defaultConfig('dacs', 'tiny', { iters: 1, workers: 1, crop: { width: 16, height: 8 }, useCorrections });
      await expect(
        startRound({ db: p.db, projectDir: p.projectDir, backend, signal: cancelled.signal, onStarted: (id) => (roundId = id) }, { sourceDatasetId, targetDatasetId: images[0]!.datasetId, config }),
      ).rejects.toThrow(/stop before the first step/);
      return getRound(p.db, roundId)!.config;
    };
    expect((await run(true)).corrections).toEqual({ images: 1, pixels: 4 * (W / 2) - 1, versions: { [images[0]!.id]: 1 } });
    expect((await run(false)).corrections).toBeUndefined();
  });
});
