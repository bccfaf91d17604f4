// Test fixture: a project with a small Cityscapes-shaped target dataset and, on request, a finished round with
// a prediction per image, written directly to the store (no training).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { importDataset } from '../datasets/importDataset';
import { openProjectDb, type Db } from '../store/db';
import { listImages } from '../store/datasetsRepo';
import { createRound, updateRound } from '../store/roundsRepo';

export interface TestProject {
  dir: string;
  projectDir: string;
  db: Db;
  /** Reopens the project database (closing the current connection first). */
  reopen(): Db;
  close(): void;
}

export function writePng(path: string, width: number, height: number, channels: 1 | 3, fill: (i: number) => number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  writeFileSync(path, encode({ width, height, channels, depth: 8, data }));
}

/** Writes `images` train images of `width` x `height` in Cityscapes layout under `folder`; returns their paths. */
export function writeCityscapes(folder: string, images: number, width: number, height: number): string[] {
  return Array.from({ length: images }, (_, i) => {
    const path = join(folder, 'leftImg8bit', 'train', 'aachen', `aachen_${String(i).padStart(6, '0')}_000019_leftImg8bit.png`);
    writePng(path, width, height, 3, (k) => (k * 7 + i * 31) % 251);
    return path;
  });
}

export function createTestProject(): TestProject {
  const dir = mkdtempSync(join(tmpdir(), 'corda-corrections-'));
  const projectDir = join(dir, 'project');
  const project: TestProject = {
    dir,
    projectDir,
    db: openProjectDb(projectDir, { create: true }),
    reopen() {
      project.db.close();
      project.db = openProjectDb(projectDir);
      return project.db;
    },
    close() {
      if (project.db.open) project.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return project;
}

/** Imports a generated Cityscapes folder as a target dataset; returns its id and image ids (sorted by name). */
export async function addTargetDataset(p: TestProject, name: string, images = 3, width = 16, height = 8): Promise<{ datasetId: number; imageIds: number[] }> {
  const folder = join(p.dir, name);
  writeCityscapes(folder, images, width, height);
  const { datasetId } = await importDataset(p.db, folder, { projectDir: p.projectDir });
  return { datasetId, imageIds: listImages(p.db, { datasetId }).map((i) => i.id) };
}

/**
 * A finished round adapted to `datasetId` with, for each image, a `width` x `height` prediction from
 * `prediction(imageId)` and a difficulty score from `score(imageId)`.
 */
export function addDoneRound(
  db: Db,
  datasetId: number,
  imageIds: number[],
  size: { width: number; height: number },
  prediction: (imageId: number) => Uint8Array,
  score: (imageId: number) => number = () => 0,
): number {
  const roundId = createRound(db, { parentId: null, sourceDatasetId: datasetId, targetDatasetId: datasetId, method: 'dacs', preset: 'tiny', config: {}, backend: {} });
  const png = (data: Uint8Array) => Buffer.from(encode({ ...size, data, channels: 1, depth: 8 }));
  // Only the columns every schema since rounds began has, so the fixture does not follow saveLayers' inputs.
  const insert = db.prepare('INSERT INTO round_layers (round_id, image_id, prediction, confidence, difficulty_score) VALUES (?, ?, ?, ?, ?)');
  for (const imageId of imageIds) {
    insert.run(roundId, imageId, png(prediction(imageId)), png(new Uint8Array(size.width * size.height).fill(200)), score(imageId));
  }
  updateRound(db, roundId, { status: 'done', finished: true });
  return roundId;
}
