// The correction methods through the service (as every transport calls them), the raw correction assets
// through the web server, and listImages' corrected filter and difficulty sort.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, deltaFromIndices, encodeDelta } from '../../shared/labelDelta';
import { startWebServer } from '../../server/webServer';
import { createService, type Service } from '../service';
import { addDoneRound, writeCityscapes, writePng } from '../testFixtures/project';

const W = 16;
const H = 8;
let dir: string;
let service: Service;
let datasetId: number;
let ids: number[];
let files: string[];

const paint = (from: number, to: number, classId: number) =>
  bytesToBase64(encodeDelta(deltaFromIndices(Array.from({ length: to - from }, (_, k) => from + k), () => classId, () => 1)));
const stroke = (imageId: number, baseRevision: number, delta: string, baseRoundId: number | null = null) =>
  service.call('applyStroke', { imageId, baseRevision, baseRoundId, tool: 'brush', classId: 5, delta, ms: 1000 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corda-correction-api-'));
  files = writeCityscapes(join(dir, 'cs'), 4, W, H);
  service = createService({ projectDir: join(dir, 'project'), transport: 'web', create: true });
  ({ datasetId } = await service.call('importDataset', { folder: join(dir, 'cs') }));
  ids = (await service.call('listImages', { datasetId })).map((i) => i.id);
});
afterAll(() => {
  service.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('correction methods', () => {
  it('applies, undoes and redoes strokes sent back to back, and serves the raw buffers', async () => {
    const id = ids[0]!;
    expect(await service.call('getCorrection', { imageId: id })).toMatchObject({ version: 0, width: W, height: H, updatedAt: null });
    await expect(service.asset({ imageId: id, correction: 'labels' })).rejects.toThrow(`Image ${id} has no correction yet.`);

    // The editor does not wait for one save before sending the next stroke.
    const saves = [stroke(id, 0, paint(0, 4, 5)), stroke(id, 1, paint(4, 6, 6)), stroke(id, 2, paint(6, 7, 7))];
    expect((await Promise.all(saves)).map((s) => s.version)).toEqual([1, 2, 3]);

    const undone = await service.call('undoStroke', { imageId: id, baseRevision: 3 });
    expect(undone.state).toMatchObject({ version: 2, canRedo: true, humanPixels: 6, secondsSpent: 3 });
    expect(Array.from(base64ToBytes(undone.delta))).toEqual(Array.from(encodeDelta(deltaFromIndices([6], () => 255, () => 0))));
    const redone = await service.call('redoStroke', { imageId: id, baseRevision: undone.state.revision });
    expect(redone.state).toMatchObject({ version: 3, canRedo: false, humanPixels: 7 });

    const labels = await service.asset({ imageId: id, correction: 'labels' });
    const human = await service.asset({ imageId: id, correction: 'human' });
    expect(labels.mime).toBe('application/octet-stream');
    if (!('data' in labels) || !('data' in human)) throw new Error('expected bytes');
    expect(labels.data.length).toBe(W * H);
    expect(Array.from(labels.data.subarray(0, 8))).toEqual([5, 5, 5, 5, 6, 6, 7, 255]);
    expect(Array.from(human.data.subarray(0, 8))).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);

    // The web server hands the bytes over as they are and tells the browser never to keep them.
    const rendererDir = join(dir, 'renderer');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    const server = await startWebServer({ service, rendererDir, port: 0 });
    try {
      const token = new URL(server.url).searchParams.get('token');
      const response = await fetch(`http://127.0.0.1:${server.port}/api/image/${id}/correction/labels?token=${token}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(Buffer.from(await response.arrayBuffer()).equals(labels.data)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('refuses a stroke for an image whose file changed size on disk, writing nothing', async () => {
    const id = ids[1]!;
    await stroke(id, 0, paint(0, 2, 1));
    const before = await service.call('getCorrection', { imageId: id });
    writePng(files[1]!, W * 2, H, 3, () => 0);
    await expect(stroke(id, 1, paint(2, 3, 1))).rejects.toThrow(/is now 32x8 on disk but was 16x8 when imported; the correction was not saved/);
    await expect(service.call('undoStroke', { imageId: id, baseRevision: 1 })).rejects.toThrow(/is now 32x8 on disk/);
    expect(await service.call('getCorrection', { imageId: id })).toEqual(before);
    writePng(files[1]!, W, H, 3, () => 0);
    expect((await stroke(id, 1, paint(2, 3, 1))).version).toBe(2);
  });

  it('refuses bad input with one sentence', async () => {
    await expect(stroke(ids[2]!, 0, paint(0, 1, 19))).rejects.toThrow(/class id 19 is not in the palette/);
    await expect(service.call('applyStroke', { imageId: ids[2], baseRevision: 0, baseRoundId: null, tool: 'brush', classId: 40, delta: paint(0, 1, 1), ms: 1 })).rejects.toThrow(/Invalid input for applyStroke at "classId"/);
    await expect(stroke(ids[2]!, 0, '%%%')).rejects.toThrow(/not base64/);
    await expect(stroke(999, 0, paint(0, 1, 1))).rejects.toThrow(/no image 999/);
    await expect(service.call('getBudget', { datasetId: 99 })).rejects.toThrow(/no dataset 99/);
    expect((await service.call('getCorrection', { imageId: ids[2]! })).version).toBe(0);
  });

  it('counts the budget and lists images by corrected pixels and difficulty', async () => {
    const budget = await service.call('getBudget', { datasetId });
    expect(budget).toEqual({ datasetId, correctedPixels: 7 + 3, totalPixels: 4 * W * H, correctedImages: 2, images: 4, share: 10 / (4 * W * H), otherSplitPixels: 0 });

    const corrected = await service.call('listImages', { datasetId, corrected: true });
    expect(corrected.map((i) => [i.id, i.correctedPixels])).toEqual([[ids[0], 7], [ids[1], 3]]);
    expect((await service.call('listImages', { datasetId, corrected: false })).map((i) => i.id)).toEqual([ids[2], ids[3]]);

    // No round yet: no difficulty, and sorting by it keeps the name order.
    const plain = await service.call('listImages', { datasetId, sort: 'difficulty' });
    expect(plain.map((i) => [i.id, i.difficulty])).toEqual(ids.map((id) => [id, null]));

    const scores = [0.2, 0.9, 0.5];
    const older = addDoneRound(service.db, datasetId, ids.slice(0, 3), { width: W, height: H }, () => new Uint8Array(W * H), (id) => scores[ids.indexOf(id)]!);
    const latest = addDoneRound(service.db, datasetId, ids, { width: W, height: H }, () => new Uint8Array(W * H), (id) => 1 - ids.indexOf(id) / 10);
    const hardest = await service.call('listImages', { datasetId, sort: 'difficulty' });
    expect(hardest.map((i) => i.id)).toEqual(ids);
    expect(hardest.map((i) => i.difficulty)).toEqual([1, 0.9, 0.8, 0.7]);
    const byOlder = await service.call('listImages', { datasetId, sort: 'difficulty', roundId: older });
    expect(byOlder.map((i) => [i.id, i.difficulty])).toEqual([[ids[1], 0.9], [ids[2], 0.5], [ids[0], 0.2], [ids[3], null]]);
    expect((await service.call('listImages', { datasetId, sort: 'difficulty', roundId: older, corrected: true })).map((i) => i.id)).toEqual([ids[1], ids[0]]);
    expect((await service.call('listImages', { datasetId })).map((i) => i.id)).toEqual(ids);
    expect((await service.call('getImage', { imageId: ids[0]! })).difficulty).toBe(1);
    expect((await service.call('getImage', { imageId: ids[0]! })).correctedPixels).toBe(7);
    await expect(service.call('listImages', { datasetId, sort: 'difficulty', roundId: latest + 5 })).rejects.toThrow(/was not adapted to dataset/);
  });
});
