// The simulated annotator on demo data (ground truth in gtFine) with a round whose layers are written from a
// made-up prediction (no training), through the service as the editor uses it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IGNORE } from '../shared/labels';
import { containedPath } from '../core/datasets/assets';
import { readTrainIds } from '../core/datasets/labelsIO';
import { Rng } from '../core/random';
import type { Service } from '../core/service';
import { getImage } from '../core/store/datasetsRepo';
import { openDemoProject, saveFakeRound, type DemoProject } from '../core/testFixtures/demoProject';
import { runCorda } from './runInProcess';
import { simulateAnnotator } from './simulateAnnotator';

const WORK_W = 48;
const WORK_H = 24;
let demo: DemoProject;
let work: string;
let service: Service;
let source: number;
let target: number;
let images: { id: number; width: number; height: number; split: string }[];

/** A round adapted to the target with random labels and difficulty, so the queue has regions everywhere. */
function addRound(seed: number): number {
  return saveFakeRound(demo, (k) => {
    const rng = new Rng(seed * 100 + k);
    const n = WORK_W * WORK_H;
    const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (Math.floor(i / 3) % WORK_W < WORK_W / 2 ? 40 : 200) + Math.floor(rng.next() * 20));
    const labels = Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 19));
    const prediction = {
      width: WORK_W, height: WORK_H, labels, second: labels.map((l) => (l + 1) % 19),
      confidence: Float32Array.from({ length: n }, () => rng.next()), difficulty: Float32Array.from({ length: n }, () => rng.next()),
      depthSrc: null, depthTgt: null, logits: null,
    };
    return { prediction, rgb };
  });
}

const bytes = async (request: Parameters<Service['asset']>[0]) => (await service.asset(request)) as { data: Buffer };
const gtOf = async (imageId: number) => {
  const stored = getImage(service.db, imageId)!;
  return (await readTrainIds(containedPath(stored.root, stored.labelPath!), stored.kind)).data;
};
const regionsOf = (roundId: number, state: string) =>
  service.db.prepare('SELECT id, image_id AS imageId, superpixel FROM regions WHERE round_id = ? AND state = ?').all(roundId, state) as { id: number; imageId: number; superpixel: number }[];

beforeAll(async () => {
  demo = await openDemoProject('corda-simulate-', 4);
  ({ work, service, source, target, images } = demo);
});
afterAll(() => demo.close());

describe('simulated annotator', () => {
  let roundId: number;

  it('refuses a dataset without a finished round, a bad budget and an unknown round, one sentence each', async () => {
    await expect(simulateAnnotator(service, { datasetId: target, budget: 0.05 })).rejects.toThrow(/no finished round/);
    roundId = addRound(1);
    await expect(simulateAnnotator(service, { datasetId: target, budget: 0 })).rejects.toThrow(/between 0 and 1 \(0\.022 for 2\.2 %\), got 0\./);
    await expect(simulateAnnotator(service, { datasetId: target, budget: 2.2 })).rejects.toThrow(/got 2\.2\./);
    await expect(simulateAnnotator(service, { datasetId: target, roundId: 999, budget: 0.05 })).rejects.toThrow(/no round 999/);
    await expect(simulateAnnotator(service, { datasetId: 999, budget: 0.05 })).rejects.toThrow(/no dataset 999/);
    expect(service.db.prepare('SELECT count(*) AS n FROM corrections').get()).toEqual({ n: 0 });
  });

  it('walks the queue hardest first, copies ground truth into train regions and stops at the budget', async () => {
    const first = (await service.call('nextRegion', { datasetId: target, roundId }))!;
    const shares: number[] = [];
    const result = await simulateAnnotator(service, { datasetId: target, budget: 0.1, onProgress: (p) => shares.push(p.share) });
    expect(result).toMatchObject({ datasetId: target, roundId, split: 'train', stopped: 'budget' });
    expect(result.share).toBeGreaterThanOrEqual(0.1);
    const trainPixels = images.filter((i) => i.split === 'train').reduce((s, i) => s + i.width * i.height, 0);
    expect(result.splitPixels).toBe(trainPixels);
    expect(result.pixels).toBe(result.splitCorrectedPixels);
    expect(result.meter).toMatchObject({ correctedPixels: result.pixels, totalPixels: trainPixels, otherSplitPixels: 0 });
    expect(result.meter.share).toBe(result.share); // the meter is the share of the train split too

    const done = regionsOf(roundId, 'done');
    const skipped = regionsOf(roundId, 'skipped');
    expect(done).toHaveLength(result.regions);
    expect(skipped).toHaveLength(result.skipped);
    expect(result.skipped).toBe(0); // the queue offers train regions only
    const split = (imageId: number) => images.find((i) => i.id === imageId)!.split;
    expect(split(first.imageId)).toBe('train');
    expect(done.map((r) => r.id)).toContain(first.id);
    for (const r of done) expect(split(r.imageId)).toBe('train');
    for (const r of skipped) expect(split(r.imageId)).not.toBe('train');
    // It stopped at the first region that reached the budget.
    expect(shares).toHaveLength(result.regions);
    expect(shares.slice(0, -1).every((s) => s < 0.1)).toBe(true);
    expect(shares[shares.length - 1]).toBe(result.share);

    // Inside each done region's superpixel: the ground truth, set by hand, except void; elsewhere: the model's.
    const open = service.db.prepare("SELECT count(*) AS n FROM regions WHERE round_id = ? AND state = 'open'").get(roundId) as { n: number };
    expect(open.n).toBeGreaterThan(0);
    let painted = 0;
    let voidInside = 0;
    for (const image of images) {
      const correction = service.db.prepare('SELECT 1 FROM corrections WHERE image_id = ?').get(image.id);
      if (image.split !== 'train') {
        expect(correction).toBeUndefined();
        continue;
      }
      if (!correction) continue;
      const labels = (await bytes({ imageId: image.id, correction: 'labels' })).data;
      const human = (await bytes({ imageId: image.id, correction: 'human' })).data;
      const model = (await bytes({ imageId: image.id, roundId, raw: 'prediction' })).data;
      const ids = (await bytes({ imageId: image.id, roundId, raw: 'superpixels' })).data;
      const gt = await gtOf(image.id);
      const mine = new Set(done.filter((r) => r.imageId === image.id).map((r) => r.superpixel));
      for (let p = 0; p < gt.length; p++) {
        if (mine.has(ids.readUInt16LE(p * 2)) && gt[p] === IGNORE) voidInside++;
        if (mine.has(ids.readUInt16LE(p * 2)) && gt[p] !== IGNORE) {
          expect([labels[p], human[p]]).toEqual([gt[p], 1]);
          painted++;
        } else {
          expect([labels[p], human[p]]).toEqual([model[p], 0]);
        }
      }
    }
    expect(painted).toBe(result.pixels);
    expect(voidInside).toBeGreaterThan(0); // void ground truth (the hood) inside the regions stayed the model's
  });

  it('writes through the editor\'s stroke log: brush strokes, one per class, that undo', async () => {
    const strokes = service.db.prepare('SELECT tool, class_id AS classId, image_id AS imageId FROM correction_strokes').all() as { tool: string; classId: number; imageId: number }[];
    const first = await simulateAnnotator(service, { datasetId: target, budget: 0.1 });
    expect(first).toMatchObject({ regions: 0, strokes: 0, pixels: 0, stopped: 'budget' }); // already there
    expect(strokes.length).toBeGreaterThan(0);
    for (const s of strokes) expect(s.tool).toBe('brush');
    const imageId = strokes[0]!.imageId;
    const state = await service.call('getCorrection', { imageId });
    expect(state.baseRoundId).toBe(roundId);
    const undone = await service.call('undoStroke', { imageId, baseRevision: state.revision });
    expect(undone.state.humanPixels).toBeLessThan(state.humanPixels);
    await service.call('redoStroke', { imageId, baseRevision: undone.state.revision });
  });

  it('goes on from where it stopped with a larger budget, and says when the queue runs out first', async () => {
    const before = await service.call('getBudget', { datasetId: target });
    const more = await simulateAnnotator(service, { datasetId: target, budget: 1 });
    expect(more.stopped).toBe('queue');
    expect(more.share).toBeLessThan(1);
    expect(more.meter.correctedPixels).toBe(before.correctedPixels + more.pixels);
    // Every train region was walked; val and test regions were never offered, so they are open and uncorrected.
    const open = regionsOf(roundId, 'open');
    expect(open.length).toBeGreaterThan(0);
    for (const r of open) expect(images.find((i) => i.id === r.imageId)!.split).not.toBe('train');
    for (const image of images.filter((i) => i.split !== 'train')) {
      expect(service.db.prepare('SELECT 1 FROM corrections WHERE image_id = ?').get(image.id)).toBeUndefined();
    }
    expect(more.relabelled).toBeLessThanOrEqual(more.pixels);
  });

});

describe('corda simulate-annotator', () => {
  const run = (...args: string[]) => runCorda(['simulate-annotator', ...args]);

  it('prints one JSON line, or a summary', async () => {
    const round = addRound(3);
    const project = join(work, 'project');
    const json = await run('--project', project, '--dataset', String(target), '--round', String(round), '--budget', '0.05', '--json');
    expect(json.code).toBe(0);
    expect(json.out).toHaveLength(1);
    expect(JSON.parse(json.out[0]!)).toMatchObject({ roundId: round, split: 'train', stopped: 'budget', budget: 0.05 });
    const text = await run('--project', project, '--dataset', String(target), '--round', String(round), '--budget', '0.1');
    expect(text.code).toBe(0);
    expect(text.out.join('\n')).toMatch(/^Simulated annotator on round \d+ of dataset \d+: \d+ regions corrected/);
  });

  it('answers bad input with one sentence and a non-zero exit', async () => {
    const project = join(work, 'project');
    for (const [args, code, message] of [
      [['--dataset', String(target), '--budget', '0.05'], 2, /--project DIR is required/],
      [['--project', project, '--budget', '0.05'], 2, /--dataset ID is required/],
      [['--project', project, '--dataset', String(target)], 2, /--budget FRACTION is required/],
      [['--project', project, '--dataset', String(target), '--budget', '5%'], 2, /--budget must be a share between 0 and 1/],
      [['--project', project, '--dataset', String(target), '--budget', '0.05', '--split', 'val'], 2, /Unknown option '--split'/],
      [['--project', project, '--dataset', String(source), '--budget', '0.05'], 1, /no finished round/],
    ] as const) {
      const result = await run(...args);
      expect(result.code).toBe(code);
      expect(result.err).toHaveLength(1);
      expect(result.err[0]).toMatch(message);
    }
  });
});
