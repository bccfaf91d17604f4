// Issue 11, items 6 and 8: files that are not regular files in a dataset (a FIFO named like an image hung the
// import forever), and a project folder inside the dataset (refused only after writing into the dataset).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { openProjectDb } from '../store/db';
import { getImage, listImages } from '../store/datasetsRepo';
import { containedPath, readDatasetFile } from './assets';
import { readTrainIds } from './labelsIO';
import { generateDemoData, type DemoResult } from './demo/generate';
import { importDataset } from './importDataset';
import { treeHash } from '../testFixtures/treeHash';

let work: string;
let demo: DemoResult;
const CLI_ARGS = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts')];
const corda = (args: string[]) => spawnSync(process.execPath, [...CLI_ARGS, ...args], { encoding: 'utf8', timeout: 60_000 });

const mkfifo = (path: string) => {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-import-rob-'));
  demo = await generateDemoData(join(work, 'demo'), { images: 4, width: 64, height: 32, seed: 5 });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('files that are not regular files', () => {
  it('skips a FIFO, a folder and a symlink loop named like images, with a problem line each, and finishes', async () => {
    const data = join(work, 'gta-special');
    cpSync(demo.gta5, data, { recursive: true });
    mkfifo(join(data, 'images', '90001.png'));
    mkdirSync(join(data, 'images', '90002.png'));
    symlinkSync('90003.png', join(data, 'images', '90003.png'));
    mkfifo(join(data, 'fifo-elsewhere'));
    symlinkSync('../fifo-elsewhere', join(data, 'images', '90004.png'));
    // A label that is a FIFO: the image is imported without labels.
    const label = readdirSync(join(data, 'labels')).sort()[0]!;
    rmSync(join(data, 'labels', label));
    mkfifo(join(data, 'labels', label));

    const projectDir = join(work, 'p-special');
    const db = openProjectDb(projectDir, { create: true });
    const result = await importDataset(db, data, { projectDir });
    expect(result.counts.train).toBe(4);
    expect(result.withLabels).toBe(3);
    expect(result.problems).toEqual([
      { file: 'images/90001.png', error: 'skipped: not a regular file (a named pipe)' },
      { file: 'images/90002.png', error: expect.stringMatching(/^EISDIR|skipped: not a regular file \(a folder\)/) },
      { file: 'images/90003.png', error: expect.stringMatching(/ELOOP/) },
      { file: 'images/90004.png', error: 'skipped: not a regular file (a named pipe)' },
      { file: `labels/${label}`, error: 'skipped: not a regular file (a named pipe); the image is imported without labels' },
    ]);
    db.close();
  }, 20_000);

  it('refuses to hand out a file that became a FIFO (or a symlink to one) after import', async () => {
    const data = join(work, 'gta-later');
    cpSync(demo.gta5, data, { recursive: true });
    const projectDir = join(work, 'p-later');
    const db = openProjectDb(projectDir, { create: true });
    const { datasetId } = await importDataset(db, data, { projectDir });
    const [first, second] = listImages(db, { datasetId });
    rmSync(join(data, 'images', `${first!.name}.png`));
    mkfifo(join(data, 'images', `${first!.name}.png`));
    rmSync(join(data, 'images', `${second!.name}.png`));
    symlinkSync(`${first!.name}.png`, join(data, 'images', `${second!.name}.png`));
    for (const image of [first!, second!]) {
      const stored = getImage(db, image.id)!;
      expect(() => containedPath(stored.root, stored.rgbPath)).toThrow(UserError);
      expect(() => containedPath(stored.root, stored.rgbPath)).toThrow(/is not a regular file any more/);
    }
    db.close();
  });
});

describe('dataset files that changed after import', () => {
  it('a missing dataset folder and a file that no longer decodes get one sentence each', async () => {
    expect(() => containedPath(join(work, 'gone'), 'images/a.png')).toThrow(UserError);
    expect(() => containedPath(join(work, 'gone'), 'images/a.png')).toThrow(/^The dataset folder .*gone is missing/);
    const data = join(work, 'gta-garbled');
    cpSync(demo.gta5, data, { recursive: true });
    const label = readdirSync(join(data, 'labels')).sort()[0]!;
    writeFileSync(join(data, 'labels', label), 'garbage');
    const read = readDatasetFile(containedPath(data, `labels/${label}`), (file) => readTrainIds(file, 'gta5'));
    await expect(read).rejects.toThrow(UserError);
    await expect(readDatasetFile(join(data, 'labels', label), (file) => readTrainIds(file, 'gta5'))).rejects.toThrow(
      /cannot be read.*; it changed on disk since the dataset was imported/,
    );
  });
});

describe('a project folder inside the dataset', () => {
  it('is refused before anything is written into the dataset', () => {
    const data = join(work, 'gta-project-inside');
    cpSync(demo.gta5, data, { recursive: true });
    const before = treeHash(data);
    const run = corda(['import', data, '--project', join(data, 'proj')]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^corda: The project folder .* is inside the dataset folder .*; keep projects outside dataset folders/);
    expect(existsSync(join(data, 'proj'))).toBe(false);
    expect(treeHash(data)).toBe(before);
  });

  it('is refused when the folder given is inside the dataset (leftImg8bit picked, project beside it)', () => {
    const data = join(work, 'cs-project-inside');
    cpSync(demo.cityscapes, data, { recursive: true });
    const before = treeHash(data);
    const run = corda(['import', join(data, 'leftImg8bit'), '--project', join(data, 'proj')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/keep projects outside dataset folders/);
    expect(existsSync(join(data, 'proj'))).toBe(false);
    expect(treeHash(data)).toBe(before);
  });

  it('is refused when the project lies inside a dataset it already holds', async () => {
    const data = join(work, 'gta-registered');
    cpSync(demo.gta5, data, { recursive: true });
    const projectDir = join(data, 'proj');
    // A project moved into its own dataset: register the dataset as if it had been imported from elsewhere.
    const db = openProjectDb(projectDir, { create: true });
    db.prepare("INSERT INTO datasets (name, kind, role, root, layout, imported_at) VALUES ('g', 'gta5', 'source', ?, '{}', 'then')").run(data);
    db.close();
    const other = join(work, 'other-cs');
    cpSync(demo.cityscapes, other, { recursive: true });
    const run = corda(['import', other, '--project', projectDir]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^corda: The project folder .* is inside the dataset folder .*gta-registered; keep projects outside/);
    const again = openProjectDb(projectDir);
    await expect(importDataset(again, other, { projectDir })).rejects.toThrow(/keep projects outside dataset folders/);
    expect((again.prepare('SELECT count(*) AS n FROM datasets').get() as { n: number }).n).toBe(1);
    again.close();
  });
});
