// The region queue and the raw editor buffers through the service, on rounds whose layers are written with
// the prediction step's own encoder from a made-up prediction (no training).
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { encode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Region } from '../../shared/api';
import type { Prediction } from '../adapt/predict';
import { Rng } from '../random';
import type { Service } from '../service';
import { createRound, updateRound } from '../store/roundsRepo';
import { COVERED_SHARE, humanShares } from './coverage';
import { openDemoProject, saveFakeRound, type DemoProject } from '../testFixtures/demoProject';

const WORK_W = 48;
const WORK_H = 24;
let demo: DemoProject;
let service: Service;
let source: number;
let target: number;
let images: { id: number; width: number; height: number; split: string }[];
/** A round's regions on train images (the queue's), for SELECTs: `SELECT ... FROM ${TRAIN_REGIONS} ...`, round id bound first. */
const TRAIN_REGIONS = "regions JOIN images ON images.id = regions.image_id WHERE regions.round_id = ? AND images.split = 'train'";

function fakePrediction(seed: number): { prediction: Prediction; rgb: Uint8Array } {
  const rng = new Rng(seed);
  const n = WORK_W * WORK_H;
  const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (Math.floor(i / 3) % WORK_W < WORK_W / 2 ? 40 : 200) + Math.floor(rng.next() * 20));
  const labels = Uint8Array.from({ length: n }, (_, p) => (p % WORK_W < WORK_W / 2 ? 0 : 13) + (rng.next() < 0.2 ? 1 : 0));
  return {
    rgb,
    prediction: {
      width: WORK_W,
      height: WORK_H,
      labels,
      second: labels.map((l) => (l + 1) % 19),
      confidence: Float32Array.from({ length: n }, () => 0.3 + rng.next() * 0.7),
      difficulty: Float32Array.from({ length: n }, () => rng.next()),
      depthSrc: null,
      depthTgt: null,
      logits: null,
    },
  };
}

function addRound(status: 'done' | 'running', seed: number): number {
  return saveFakeRound(demo, (i) => fakePrediction(seed * 100 + i), status);
}

/** A round as schema 4 stored it: prediction and confidence only, no second choice, superpixels or regions. */
function addOldRound(): number {
  const roundId = createRound(service.db, { parentId: null, sourceDatasetId: source, targetDatasetId: target, method: 'dacs', preset: 'tiny', config: {}, backend: {} });
  const png = Buffer.from(encode({ width: WORK_W, height: WORK_H, data: new Uint8Array(WORK_W * WORK_H), channels: 1, depth: 8 }));
  service.db.prepare('INSERT INTO round_layers (round_id, image_id, prediction, confidence, difficulty_score) VALUES (?, ?, ?, ?, 0)').run(roundId, images[0]!.id, png, png);
  updateRound(service.db, roundId, { status: 'done', finished: true });
  return roundId;
}

beforeAll(async () => {
  demo = await openDemoProject('corda-regions-', 3);
  ({ service, source, target, images } = demo);
});
afterAll(() => demo.close());

describe('region queue', () => {
  let roundId: number;

  it('has nothing to offer before any round', async () => {
    expect(await service.call('nextRegion', { datasetId: target })).toBeNull();
  });

  it('stores at most 20 regions per image, boxes inside the image', () => {
    roundId = addRound('done', 1);
    const rows = service.db.prepare('SELECT image_id AS imageId, count(*) AS n FROM regions WHERE round_id = ? GROUP BY image_id').all(roundId) as { imageId: number; n: number }[];
    expect(rows).toHaveLength(images.length);
    for (const row of rows) expect(row.n).toBeGreaterThan(0);
    for (const row of rows) expect(row.n).toBeLessThanOrEqual(20);
  });

  it('walks the queue hardest first; skipping moves on, done and skipped regions leave it', async () => {
    const first = (await service.call('nextRegion', { datasetId: target }))!;
    expect(first.roundId).toBe(roundId);
    const best = service.db.prepare(`SELECT max(regions.score) AS s FROM ${TRAIN_REGIONS}`).get(roundId) as { s: number };
    expect(first.score).toBe(best.s);
    expect(first.state).toBe('open');

    const second = (await service.call('nextRegion', { datasetId: target, afterRegionId: first.id }))!;
    const third = (await service.call('nextRegion', { datasetId: target, afterRegionId: second.id }))!;
    expect(second.score).toBeLessThanOrEqual(first.score);
    expect(third.score).toBeLessThanOrEqual(second.score);
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);

    expect(await service.call('setRegionState', { regionId: first.id, state: 'done' })).toMatchObject({ id: first.id, state: 'done' });
    await service.call('setRegionState', { regionId: second.id, state: 'skipped' });
    expect((await service.call('nextRegion', { datasetId: target }))!.id).toBe(third.id);
    await service.call('setRegionState', { regionId: second.id, state: 'open' });
    expect((await service.call('nextRegion', { datasetId: target }))!.id).toBe(second.id);
  });

  it('wraps round to the top after the last region and ends with null when every region is done', async () => {
    const open = service.db.prepare(`SELECT regions.id FROM ${TRAIN_REGIONS} AND regions.state = 'open' ORDER BY regions.score DESC, regions.id`).all(roundId) as { id: number }[];
    const last = open[open.length - 1]!.id;
    expect((await service.call('nextRegion', { datasetId: target, afterRegionId: last }))!.id).toBe(open[0]!.id);
    service.db.prepare("UPDATE regions SET state = 'done' WHERE round_id = ? AND id <> ?").run(roundId, last);
    expect(await service.call('nextRegion', { datasetId: target, afterRegionId: last })).toBeNull();
    expect((await service.call('nextRegion', { datasetId: target }))!.id).toBe(last);
    await service.call('setRegionState', { regionId: last, state: 'done' });
    expect(await service.call('nextRegion', { datasetId: target })).toBeNull();
  });

  it('uses the latest finished round by default, and any round of the dataset when asked', async () => {
    addRound('running', 2);
    const newer = addRound('done', 3);
    expect((await service.call('nextRegion', { datasetId: target }))!.roundId).toBe(newer);
    expect(await service.call('nextRegion', { datasetId: target, roundId })).toBeNull();
    const older = addOldRound();
    expect(await service.call('nextRegion', { datasetId: target, roundId: older })).toBeNull();
  });

  it('refuses unknown regions and rounds of another dataset, one sentence each', async () => {
    await expect(service.call('setRegionState', { regionId: 99999, state: 'done' })).rejects.toThrow(/no region 99999/);
    await expect(service.call('nextRegion', { datasetId: target, afterRegionId: 99999 })).rejects.toThrow(/no region 99999/);
    await expect(service.call('nextRegion', { datasetId: target, roundId: 999 })).rejects.toThrow(/no round 999/);
    await expect(service.call('nextRegion', { datasetId: source, roundId })).rejects.toThrow(/not adapted to dataset/);
  });

  it('offers and counts only regions on train images, the split rounds learn from', async () => {
    const round = addRound('done', 4);
    const splitOf = (imageId: number) => images.find((i) => i.id === imageId)!.split;
    const all = service.db.prepare('SELECT id, image_id AS imageId, score FROM regions WHERE round_id = ?').all(round) as { id: number; imageId: number; score: number }[];
    const train = all.filter((r) => splitOf(r.imageId) === 'train');
    const others = all.filter((r) => splitOf(r.imageId) !== 'train');
    expect(new Set(others.map((r) => splitOf(r.imageId)))).toEqual(new Set(['val', 'test']));
    // The hardest region of the round overall is on a val or test image, so the queue must pass it over.
    const hardest = others.reduce((a, b) => (b.score > a.score ? b : a));
    service.db.prepare('UPDATE regions SET score = 2 WHERE id = ?').run(hardest.id);
    expect(await service.call('getRegionStats', { datasetId: target, roundId: round })).toMatchObject({ open: train.length, done: 0, skipped: 0, covered: 0 });
    const seen: number[] = [];
    for (let region = await service.call('nextRegion', { datasetId: target, roundId: round }); region; region = await service.call('nextRegion', { datasetId: target, roundId: round })) {
      seen.push(region.id);
      await service.call('setRegionState', { regionId: region.id, state: 'done', seconds: 1 });
    }
    expect(seen.sort((a, b) => a - b)).toEqual(train.map((r) => r.id).sort((a, b) => a - b));
    // A region of another split closed by hand (an old window) is not counted either.
    await service.call('setRegionState', { regionId: hardest.id, state: 'done', seconds: 100 });
    expect(await service.call('getRegionStats', { datasetId: target, roundId: round })).toMatchObject({ open: 0, done: train.length, timed: train.length, medianSeconds: 1 });
  });
});

/** The image's superpixel ids at its own size, as the editor gets them. */
async function nativeSuperpixels(imageId: number, roundId: number): Promise<Uint16Array> {
  const data = ((await service.asset({ imageId, roundId, raw: 'superpixels' })) as { data: Buffer }).data;
  return Uint16Array.from({ length: data.length / 2 }, (_, p) => data.readUInt16LE(p * 2));
}

/** Stores a correction whose human mask is exactly `human` (labels irrelevant here). */
function storeHumanMask(image: { id: number; width: number; height: number }, human: Uint8Array): void {
  const n = image.width * image.height;
  const humanPixels = human.reduce((a, b) => a + (b ? 1 : 0), 0);
  service.db
    .prepare(
      `INSERT INTO corrections (image_id, base_round_id, width, height, labels, human, human_pixels, version, revision, seconds_spent, updated_at)
       VALUES (?, NULL, ?, ?, ?, ?, ?, 1, 1, 0, 'now')
       ON CONFLICT (image_id) DO UPDATE SET human = excluded.human, human_pixels = excluded.human_pixels`,
    )
    .run(image.id, image.width, image.height, deflateRawSync(new Uint8Array(n)), deflateRawSync(human), humanPixels);
}

/** Sets the first `share` of a superpixel's native pixels (in raster order) in `human`. */
function setShare(human: Uint8Array, ids: Uint16Array, superpixel: number, share: number): void {
  const at = Array.from(ids).flatMap((id, p) => (id === superpixel ? [p] : []));
  for (const p of at.slice(0, Math.ceil(at.length * share))) human[p] = 1;
}

const stateOf = (regionId: number) => (service.db.prepare('SELECT state FROM regions WHERE id = ?').get(regionId) as { state: string }).state;

describe('covered regions', () => {
  it("judges a region by its superpixel's own native pixels, not by its box", () => {
    // 4x2 working map: superpixel 1 is an L inside a box that also holds superpixel 0's pixel (1, 0).
    const superpixels = Uint16Array.from([0, 0, 1, 2, 1, 1, 1, 2]);
    const native = { W: 8, H: 4 };
    const human = new Uint8Array(native.W * native.H);
    // Working pixel (1, 0) of superpixel 0 shows as native 2..3 x 0..1: all of it corrected.
    for (const [X, Y] of [[2, 0], [3, 0], [2, 1], [3, 1]] as const) human[Y * native.W + X] = 1;
    const box = { superpixel: 1, x: 0, y: 0, width: 6, height: 4 };
    expect(humanShares(superpixels, 4, 2, human, native.W, native.H, [box, { superpixel: 0, x: 0, y: 0, width: 4, height: 2 }])).toEqual([0, 0.5]);
    // Superpixel 1's top-right native pixels (4..5 x 0..1) make 4 of its 16.
    for (const [X, Y] of [[4, 0], [5, 0], [4, 1], [5, 1]] as const) human[Y * native.W + X] = 1;
    expect(humanShares(superpixels, 4, 2, human, native.W, native.H, [box])).toEqual([0.25]);
  });

  let round: number;
  it('passes over open regions at least half corrected, marks them covered and counts them', async () => {
    round = addRound('done', 5);
    const first = (await service.call('nextRegion', { datasetId: target, roundId: round }))!;
    const image = images.find((i) => i.id === first.imageId)!;
    const others = service.db
      .prepare("SELECT id, superpixel FROM regions WHERE round_id = ? AND image_id = ? AND id <> ? ORDER BY score DESC, id")
      .all(round, image.id, first.id) as { id: number; superpixel: number }[];
    expect(others.length).toBeGreaterThan(1);
    const ids = await nativeSuperpixels(image.id, round);
    const human = new Uint8Array(image.width * image.height);
    setShare(human, ids, first.superpixel, COVERED_SHARE); // exactly half: covered
    setShare(human, ids, others[0]!.superpixel, 0.4); // less than half: stays open
    storeHumanMask(image, human);

    const before = await service.call('getRegionStats', { datasetId: target, roundId: round });
    const next = (await service.call('nextRegion', { datasetId: target, roundId: round }))!;
    expect(next.id).not.toBe(first.id);
    expect(stateOf(first.id)).toBe('covered');
    expect(stateOf(others[0]!.id)).toBe('open');
    const after = await service.call('getRegionStats', { datasetId: target, roundId: round });
    expect(after).toMatchObject({ roundId: round, covered: 1, open: before.open - 1, done: 0, skipped: 0 });
    // A person may still open a covered region again by hand.
    expect(await service.call('setRegionState', { regionId: first.id, state: 'open' })).toMatchObject({ state: 'open' });
  });

  it("judges the image's other open regions when one of them is closed, so the counts show them at once", async () => {
    const regionsOf = service.db.prepare(`SELECT regions.id, regions.image_id AS imageId, regions.superpixel FROM ${TRAIN_REGIONS} AND regions.state = 'open' AND regions.image_id <> ? ORDER BY regions.score DESC, regions.id`).all(
      round,
      (await service.call('nextRegion', { datasetId: target, roundId: round }))!.imageId,
    ) as { id: number; imageId: number; superpixel: number }[];
    const image = images.find((i) => i.id === regionsOf[0]!.imageId)!;
    const [closed, fixed] = regionsOf.filter((r) => r.imageId === image.id);
    const human = new Uint8Array(image.width * image.height);
    setShare(human, await nativeSuperpixels(image.id, round), fixed!.superpixel, 0.9);
    storeHumanMask(image, human);
    await service.call('setRegionState', { regionId: closed!.id, state: 'done' });
    expect(stateOf(fixed!.id)).toBe('covered');
    expect((await service.call('getRegionStats', { datasetId: target, roundId: round })).covered).toBeGreaterThanOrEqual(1);
  });
});

describe('time per region', () => {
  it('adds each visit\'s seconds to the region and reports the median over timed regions', async () => {
    service.db.prepare('DELETE FROM corrections').run(); // the masks above would cover some of this round's regions
    const round = addRound('done', 6);
    const open = service.db.prepare(`SELECT regions.id FROM ${TRAIN_REGIONS} ORDER BY regions.score DESC, regions.id`).all(round) as { id: number }[];
    const [a, b, c, d] = open.map((r) => r.id);
    expect(await service.call('getRegionStats', { datasetId: target, roundId: round })).toEqual({
      roundId: round, open: open.length, done: 0, skipped: 0, covered: 0, timed: 0, medianSeconds: null,
    });

    expect(await service.call('setRegionState', { regionId: a!, state: 'skipped', seconds: 4 })).toMatchObject({ state: 'skipped', seconds: 4 });
    expect(await service.call('setRegionState', { regionId: a!, state: 'open' })).toMatchObject({ state: 'open', seconds: 4 });
    expect(await service.call('setRegionState', { regionId: a!, state: 'done', seconds: 6.5 })).toMatchObject({ state: 'done', seconds: 10.5 });
    await service.call('setRegionState', { regionId: b!, state: 'done', seconds: 2 });
    await service.call('setRegionState', { regionId: c!, state: 'skipped', seconds: 30 });
    await service.call('setRegionState', { regionId: d!, state: 'done' });
    expect(await service.call('getRegionStats', { datasetId: target, roundId: round })).toEqual({
      roundId: round, open: open.length - 4, done: 3, skipped: 1, covered: 0, timed: 3, medianSeconds: 10.5,
    });
    await service.call('setRegionState', { regionId: d!, state: 'done', seconds: 0 });
    expect(await service.call('getRegionStats', { datasetId: target, roundId: round })).toMatchObject({ timed: 4, medianSeconds: (2 + 10.5) / 2 });
  });

  it('refuses times outside 0..3600 seconds or not finite, and counts nothing without a round', async () => {
    const { id } = service.db.prepare('SELECT id FROM regions LIMIT 1').get() as { id: number };
    for (const seconds of [-1, 3600.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(service.call('setRegionState', { regionId: id, state: 'done', seconds })).rejects.toThrow();
    }
    await expect(service.call('getRegionStats', { datasetId: target, roundId: 999 })).rejects.toThrow(/no round 999/);
    await expect(service.call('getRegionStats', { datasetId: source })).resolves.toEqual({
      roundId: null, open: 0, done: 0, skipped: 0, covered: 0, timed: 0, medianSeconds: null,
    });
  });
});

describe('raw editor buffers', () => {
  const raw = async (imageId: number, round: number, which: 'prediction' | 'second' | 'superpixels') => {
    const asset = await service.asset({ imageId, roundId: round, raw: which });
    expect('data' in asset && asset.mime).toBe('application/octet-stream');
    return (asset as { data: Buffer }).data;
  };

  it('serves prediction, second choice and superpixels at the image size, lining up with the regions', async () => {
    const { round } = service.db.prepare('SELECT max(round_id) AS round FROM regions').get() as { round: number };
    const image = images[0]!;
    const n = image.width * image.height;
    const prediction = await raw(image.id, round, 'prediction');
    const second = await raw(image.id, round, 'second');
    const superpixels = await raw(image.id, round, 'superpixels');
    expect([prediction.length, second.length, superpixels.length]).toEqual([n, n, 2 * n]);
    for (let p = 0; p < n; p++) expect(second[p]).toBe((prediction[p]! + 1) % 19);

    const ids = Array.from({ length: n }, (_, p) => superpixels.readUInt16LE(p * 2));
    const regions = service.db.prepare('SELECT superpixel, x, y, width, height, pixels FROM regions WHERE round_id = ? AND image_id = ?').all(round, image.id) as Region[];
    expect(regions.length).toBeGreaterThan(0);
    for (const region of regions) {
      const at = ids.flatMap((id, p) => (id === region.superpixel ? [[p % image.width, Math.floor(p / image.width)] as const] : []));
      expect(at).toHaveLength(region.pixels);
      expect(Math.min(...at.map(([x]) => x))).toBe(region.x);
      expect(Math.max(...at.map(([x]) => x))).toBe(region.x + region.width - 1);
      expect(Math.min(...at.map(([, y]) => y))).toBe(region.y);
      expect(Math.max(...at.map(([, y]) => y))).toBe(region.y + region.height - 1);
    }
  });

  it('says which rounds predate second choices and superpixels', async () => {
    const older = addOldRound();
    expect((await raw(images[0]!.id, older, 'prediction')).length).toBe(images[0]!.width * images[0]!.height);
    await expect(service.asset({ imageId: images[0]!.id, roundId: older, raw: 'second' })).rejects.toThrow(
      `Round ${older} was made before second choices/superpixels were stored; run a new round.`,
    );
    await expect(service.asset({ imageId: images[1]!.id, roundId: older, raw: 'superpixels' })).rejects.toThrow(/has no prediction for image/);
  });
});

describe('depth variant', () => {
  it("renders the image's own depth as a grey PNG at the image size, cached", async () => {
    const image = images[0]!;
    const asset = await service.asset({ imageId: image.id, variant: 'depth' });
    expect(asset).toMatchObject({ mime: 'image/png', path: expect.stringContaining(join('cache', 'depth')) });
    const meta = await sharp((asset as { path: string }).path).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([image.width, image.height, 1]);
    expect(await service.asset({ imageId: image.id, variant: 'depth' })).toEqual(asset);
  });

  it('refuses an image without depth', async () => {
    service.db.prepare('UPDATE images SET depth_path = NULL WHERE id = ?').run(images[2]!.id);
    await expect(service.asset({ imageId: images[2]!.id, variant: 'depth' })).rejects.toThrow(/has no depth/);
  });
});
