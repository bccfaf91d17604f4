// A round started through the service runs in a worker_thread, reports progress as events and ends as a row.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventMessage } from '../../shared/api';
import { generateDemoData } from '../datasets/demo/generate';
import { createService, type Service } from '../service';

let work: string;
let service: Service;
let source: number;
let target: number;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-roundjobs-'));
  const demo = await generateDemoData(join(work, 'demo'), { images: 5, width: 128, height: 64, seed: 4 });
  service = createService({ projectDir: join(work, 'project'), transport: 'cli', create: true });
  source = (await service.call('importDataset', { folder: demo.gta5 })).datasetId;
  target = (await service.call('importDataset', { folder: demo.cityscapes })).datasetId;
});
afterAll(() => {
  service.close();
  rmSync(work, { recursive: true, force: true });
});

describe('rounds through the service', () => {
  it('runs in the training worker, streams progress and records the round', async () => {
    const seen: EventMessage[] = [];
    const finished = new Promise<EventMessage>((resolve) =>
      service.onEvent((m) => {
        seen.push(m);
        if (m.event === 'jobFinished' && m.payload.kind === 'round') resolve(m);
      }),
    );
    const { jobId } = await service.call('startRound', { sourceDatasetId: source, targetDatasetId: target, method: 'dacs', iters: 3, seed: 2 });
    await expect(service.call('startRound', { sourceDatasetId: source, targetDatasetId: target, iters: 3 })).rejects.toThrow(/already running/);
    const end = await finished;
    expect(end.payload).toMatchObject({ jobId, status: 'done' });
    const progress = seen.filter((m) => m.event === 'roundProgress');
    expect(progress.some((m) => m.event === 'roundProgress' && m.payload.phase === 'training' && m.payload.iteration === 3 && m.payload.roundId === 1)).toBe(true);
    expect(progress.some((m) => m.event === 'roundProgress' && m.payload.phase === 'predicting')).toBe(true);
    // The worker's notes (the backend it started) and, before jobFinished, what the round stored.
    expect(seen.some((m) => m.event === 'roundLog' && m.payload.jobId === jobId && m.payload.source === 'backend' && /^backend: wasm/.test(m.payload.line))).toBe(true);
    const result = seen.find((m) => m.event === 'roundFinished');
    expect(seen.indexOf(result!)).toBeLessThan(seen.indexOf(end));
    expect(result?.payload).toMatchObject({ jobId, roundId: 1, backend: 'wasm', init: null, timings: { threads: expect.any(Number) } });
    const [round] = await service.call('listRounds', {});
    expect(round).toMatchObject({ id: 1, method: 'dacs', status: 'done', iteration: 3, iters: 3, backend: 'wasm' });
    expect(round!.mIoU).toBeGreaterThanOrEqual(0);
    // Three iterations score val once, at the end (the default interval is 10): the curve reaches the list and
    // the predicting events.
    expect(round!.curve).toEqual([{ iteration: 3, valMIoU: round!.valMIoU, losses: expect.objectContaining({ total: expect.any(Number) }) }]);
    const lastEvent = progress.at(-1)!;
    expect(lastEvent.event === 'roundProgress' && Array.isArray(lastEvent.payload.curve)).toBe(true);

    // Every target image has its layers, loaded by image id and rendered for display.
    const images = await service.call('listImages', { datasetId: target });
    const prediction = await service.asset({ imageId: images[0]!.id, roundId: 1, layer: 'prediction' });
    expect('data' in prediction && prediction.mime).toBe('image/png');
    const meta = await sharp((prediction as { data: Buffer }).data).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([512, 256, 4]);
    const difficulty = await service.asset({ imageId: images[0]!.id, roundId: 1, layer: 'difficulty' });
    expect('data' in difficulty).toBe(true);
    await expect(service.asset({ imageId: images[0]!.id, roundId: 1, layer: 'depth_src' })).rejects.toThrow(/no depth src layer/);
    await expect(service.asset({ imageId: images[0]!.id, roundId: 9, layer: 'prediction' })).rejects.toThrow(/Round 9 has no prediction layer/);

    // The editor's buffers at the image's own size, and the region queue over every target image.
    const { id: imageId, width, height } = images[0]!;
    const raw = async (which: 'prediction' | 'second' | 'superpixels') => ((await service.asset({ imageId, roundId: 1, raw: which })) as { data: Buffer }).data;
    const [labels, second, superpixels] = [await raw('prediction'), await raw('second'), await raw('superpixels')];
    expect([labels.length, second.length, superpixels.length]).toEqual([width * height, width * height, 2 * width * height]);
    expect(labels.every((label, p) => second[p] !== label && second[p]! < 19)).toBe(true);
    const region = (await service.call('nextRegion', { datasetId: target }))!;
    expect(region).toMatchObject({ roundId: 1, state: 'open' });
    expect(region.x + region.width).toBeLessThanOrEqual(images.find((i) => i.id === region.imageId)!.width);
    const withRegions = service.db.prepare('SELECT count(DISTINCT image_id) AS n FROM regions WHERE round_id = 1').get() as { n: number };
    expect(withRegions.n).toBe(images.length);
  });

  it('refuses CorDA on a target without depth, naming the missing depth', async () => {
    const noDepth = await generateDemoData(join(work, 'nodepth'), { images: 3, width: 64, height: 32, seed: 5 });
    rmSync(join(noDepth.cityscapes, 'disparity'), { recursive: true });
    const bare = (await service.call('importDataset', { folder: noDepth.cityscapes })).datasetId;
    await expect(service.call('startRound', { sourceDatasetId: source, targetDatasetId: bare, method: 'corda' })).rejects.toThrow(/CorDA needs depth .* have none; add depth or run --method dacs/);
  });

  it('starts from a checkpoint file only by its full path, an existing file, and not beside a parent round', async () => {
    const request = { sourceDatasetId: source, targetDatasetId: target, method: 'dacs' as const, iters: 2 };
    await expect(service.call('startRound', { ...request, init: { file: 'relative.pth', from: 'model' } })).rejects.toThrow(/must be given as a full path/);
    await expect(service.call('startRound', { ...request, init: { file: join(work, 'none.pth'), from: 'model' } })).rejects.toThrow(/There is no checkpoint file at/);
    await expect(service.call('startRound', { ...request, init: { file: work, from: 'model' } })).rejects.toThrow(/is not a file/);
    await expect(service.call('startRound', { ...request, parentRoundId: 1, init: { file: join(work, 'none.pth'), from: 'model' } })).rejects.toThrow(/round 1 or a checkpoint file, not both/);
    await expect(service.call('startRound', { ...request, init: { file: join(work, 'x.pth'), from: 'teacher' } as never })).rejects.toThrow();
  });
});
