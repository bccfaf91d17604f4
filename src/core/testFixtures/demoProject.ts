// Test fixture for the region queue's tests: a project with the demo's GTA5 source and a 5-image Cityscapes target
// (3 train, 1 val, 1 test), and rounds whose layers are written with the prediction step's own encoder from a
// made-up prediction (no training).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLayers, type Prediction } from '../adapt/predict';
import { generateDemoData } from '../datasets/demo/generate';
import { createService, type Service } from '../service';
import { createRound, saveLayers, updateRound } from '../store/roundsRepo';
import { slicSuperpixels } from '../regions/superpixels';

export interface DemoProject {
  work: string;
  service: Service;
  source: number;
  target: number;
  images: { id: number; width: number; height: number; split: string }[];
  close(): void;
}

export async function openDemoProject(prefix: string, seed: number): Promise<DemoProject> {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const demo = await generateDemoData(join(work, 'demo'), { images: 5, width: 64, height: 32, seed });
  const service = createService({ projectDir: join(work, 'project'), transport: 'cli', create: true });
  const source = (await service.call('importDataset', { folder: demo.gta5 })).datasetId;
  const target = (await service.call('importDataset', { folder: demo.cityscapes })).datasetId;
  const images = (await service.call('listImages', { datasetId: target })).map(({ id, width, height, split }) => ({ id, width, height, split }));
  return {
    work, service, source, target, images,
    close() {
      service.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** A DACS round adapted to the target whose layers come from `fake(imageIndex)` (superpixels from its RGB). */
export function saveFakeRound(p: DemoProject, fake: (imageIndex: number) => { prediction: Prediction; rgb: Uint8Array }, status: 'done' | 'running' = 'done'): number {
  const { service, source, target, images } = p;
  const roundId = createRound(service.db, { parentId: null, sourceDatasetId: source, targetDatasetId: target, method: 'dacs', preset: 'tiny', config: {}, backend: {} });
  saveLayers(
    service.db,
    roundId,
    images.map((image, i) => {
      const { prediction, rgb } = fake(i);
      return encodeLayers(image, prediction, slicSuperpixels(rgb, prediction.width, prediction.height, { pixelsPerSuperpixel: 64 }));
    }),
  );
  updateRound(service.db, roundId, { status, finished: status === 'done' });
  return roundId;
}
