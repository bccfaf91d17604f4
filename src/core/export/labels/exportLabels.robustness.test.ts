// Issue 11, item 10: an image whose stem is 239 characters (its Cityscapes file name is exactly 255 bytes) made a
// label export abort with a raw ENAMETOOLONG. It is refused before anything is written, naming the image and why.
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../../shared/api';
import { main } from '../../../cli/index';
import { addDoneRound } from '../../testFixtures/project';
import { generateDemoData } from '../../datasets/demo/generate';
import { listImages } from '../../store/datasetsRepo';
import { createService, type Service } from '../../service';
import { openStagingFolder } from './stagingFolder';

let work: string;
let service: Service;
let datasetId: number;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-export-long-'));
  const demo = await generateDemoData(join(work, 'demo'), { images: 4, width: 64, height: 32, seed: 2 });
  const folder = join(demo.cityscapes, 'leftImg8bit', 'train');
  const city = readdirSync(folder)[0]!;
  const file = readdirSync(join(folder, city))[0]!;
  const stem = `${city}_${'x'.repeat(239 - city.length - 1)}`;
  expect(stem).toHaveLength(239);
  renameSync(join(folder, city, file), join(folder, city, `${stem}_leftImg8bit.png`));
  service = createService({ projectDir: join(work, 'project'), transport: 'cli', create: true });
  datasetId = (await service.call('importDataset', { folder: demo.cityscapes })).datasetId;
  const images = listImages(service.db, { datasetId });
  expect(images.some((i) => i.name === stem)).toBe(true);
  addDoneRound(service.db, datasetId, images.map((i) => i.id), { width: 32, height: 16 }, () => new Uint8Array(32 * 16).fill(3));
});
afterAll(() => {
  service.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a label export with a file name too long for the file system', () => {
  it('is refused in one sentence naming the image, and writes nothing', async () => {
    const outDir = join(work, 'out-long');
    const call = service.call('exportLabels', { datasetId, which: 'predicted', format: 'labelIds', outDir });
    await expect(call).rejects.toThrow(UserError);
    await expect(service.call('exportLabels', { datasetId, which: 'predicted', format: 'labelIds', outDir })).rejects.toThrow(
      /^Cannot export the labels of image \d+ \(".*"\): its file name .* would be 259 bytes, more than the 255 a file name may have; /,
    );
    expect(existsSync(outDir)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes('out-long'))).toEqual([]);
  });

  it('exits 1 from the terminal with that sentence and no stack trace', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      const code = await main(['export-labels', '--project', service.projectDir, '--dataset', String(datasetId), '--out', join(work, 'out-cli'), '--which', 'predicted']);
      expect(code).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^corda: Cannot export the labels of image \d+/);
    expect(errors[0]).not.toMatch(/ENAMETOOLONG|\n\s+at /);
    expect(existsSync(join(work, 'out-cli'))).toBe(false);
  });

  it('explains an output folder whose name is too long for its staging folder, and leaves nothing', async () => {
    const outDir = join(work, 'e'.repeat(250));
    await expect(openStagingFolder(outDir)).rejects.toThrow(UserError);
    await expect(openStagingFolder(outDir)).rejects.toThrow(/^The output folder's name or path is too long for the file system/);
    expect(readdirSync(work).filter((f) => f.includes('eeee'))).toEqual([]);
  });
});
