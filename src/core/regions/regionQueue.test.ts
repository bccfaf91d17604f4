// The region queue and the raw editor buffers through the service, on rounds whose layers are written with
// the prediction step's own encoder from a made-up prediction (no training).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Region } from '../../shared/api';
import { encodeLayers, type Prediction } from '../adapt/predict';
import { generateDemoData } from '../datasets/demo/generate';
import { Rng } from '../random';
import { createService, type Service } from '../service';
import { createRound, saveLayers, updateRound } from '../store/roundsRepo';
import { slicSuperpixels } from './superpixels';

const WORK_W = 48;
const WORK_H = 24;
let work: string;
let service: Service;
let source: number;
let target: number;
let images: { id: number; width: number; height: number }[];

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
  const roundId = createRound(service.db, { parentId: null, sourceDatasetId: source, targetDatasetId: target, method: 'dacs', preset: 'tiny', config: {}, backend: {} });
  saveLayers(
    service.db,
    roundId,
    images.map((image, i) => {
      const { prediction, rgb } = fakePrediction(seed * 100 + i);
      return encodeLayers(image, prediction, slicSuperpixels(rgb, WORK_W, WORK_H, { pixelsPerSuperpixel: 64 }));
    }),
  );
  updateRound(service.db, roundId, { status, finished: status === 'done' });
  return roundId;
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
  work = mkdtempSync(join(tmpdir(), 'corda-regions-'));
  const demo = await generateDemoData(join(work, 'demo'), { images: 3, width: 64, height: 32, seed: 3 });
  service = createService({ projectDir: join(work, 'project'), transport: 'cli', create: true });
  source = (await service.call('importDataset', { folder: demo.gta5 })).datasetId;
  target = (await service.call('importDataset', { folder: demo.cityscapes })).datasetId;
  images = (await service.call('listImages', { datasetId: target })).map(({ id, width, height }) => ({ id, width, height }));
});
afterAll(() => {
  service.close();
  rmSync(work, { recursive: true, force: true });
});

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
    const best = service.db.prepare('SELECT max(score) AS s FROM regions WHERE round_id = ?').get(roundId) as { s: number };
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
    const open = service.db.prepare("SELECT id FROM regions WHERE round_id = ? AND state = 'open' ORDER BY score DESC, id").all(roundId) as { id: number }[];
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
