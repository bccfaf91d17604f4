import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { openProjectDb } from '../store/db';
import { listImages, listImportProblems } from '../store/datasetsRepo';
import { generateDemoData, type DemoResult } from './demo/generate';
import { detectDataset } from './detect';
import { importDataset } from './importDataset';
import { treeHash } from '../testFixtures/treeHash';

let work: string;
let demo: DemoResult;
// Run the CLI from source (not a possibly stale build) in a child process of its own.
const CLI_ARGS = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts')];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-import-'));
  demo = await generateDemoData(join(work, 'demo'), { images: 10, width: 96, height: 48, seed: 3, synthia: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function freshProject(name: string) {
  const dir = join(work, 'projects', name);
  return { dir, db: openProjectDb(dir, { create: true }) };
}

function corda(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [...CLI_ARGS, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('dataset detection', () => {
  it('recognises each generated layout', () => {
    expect(detectDataset(demo.cityscapes)).toMatchObject({ kind: 'cityscapes', layout: { rgbDir: 'leftImg8bit', labelDir: 'gtFine', depthDir: 'disparity', cameraDir: 'camera' } });
    expect(detectDataset(demo.gta5)).toMatchObject({ kind: 'gta5', layout: { rgbDir: 'images', labelDir: 'labels', depthDir: 'disparity' } });
    expect(detectDataset(demo.synthia!)).toMatchObject({ kind: 'synthia', layout: { rgbDir: 'RGB', labelDir: 'GT/LABELS', depthDir: 'Depth/Depth' } });
  });

  it('accepts the parent of separately unpacked Cityscapes archives, and the leftImg8bit folder itself', () => {
    const parent = join(work, 'unpacked');
    mkdirSync(join(parent, 'leftImg8bit_trainvaltest'), { recursive: true });
    mkdirSync(join(parent, 'gtFine_trainvaltest'), { recursive: true });
    cpSync(join(demo.cityscapes, 'leftImg8bit'), join(parent, 'leftImg8bit_trainvaltest', 'leftImg8bit'), { recursive: true });
    cpSync(join(demo.cityscapes, 'gtFine'), join(parent, 'gtFine_trainvaltest', 'gtFine'), { recursive: true });
    expect(detectDataset(parent)).toMatchObject({
      kind: 'cityscapes',
      root: parent,
      layout: { rgbDir: 'leftImg8bit_trainvaltest/leftImg8bit', labelDir: 'gtFine_trainvaltest/gtFine', depthDir: null },
    });
    expect(detectDataset(join(demo.cityscapes, 'leftImg8bit'))).toMatchObject({ kind: 'cityscapes', root: demo.cityscapes });
  });

  it('names what it expected when a folder is none of the layouts', () => {
    const empty = join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => detectDataset(empty)).toThrow(UserError);
    expect(() => detectDataset(empty)).toThrow(/expected a Cityscapes folder .*GTA5 .*SYNTHIA/);
  });
});

describe('dataset import', () => {
  it('records every image with split, city, size, labels and depth, and leaves the dataset untouched', async () => {
    const before = treeHash(demo.cityscapes);
    const { dir, db } = freshProject('cs');
    const result = await importDataset(db, demo.cityscapes, { projectDir: dir });
    expect(result.kind).toBe('cityscapes');
    expect(result.role).toBe('target');
    const { train, val, test } = result.counts;
    expect(train + val + test).toBe(10);
    expect(Math.min(train, val, test)).toBeGreaterThan(0);
    expect(result.withLabels).toBe(train + val); // test labels are all zero in Cityscapes: not ground truth
    expect(result.withDepth).toBe(10);
    expect(result.problems).toEqual([]);
    const images = listImages(db, { datasetId: result.datasetId });
    expect(images[0]).toMatchObject({ width: 96, height: 48 });
    expect(new Set(images.map((i) => i.city)).size).toBeGreaterThan(1);
    expect(listImages(db, { datasetId: result.datasetId, split: 'test', hasLabels: true })).toEqual([]);
    expect(treeHash(demo.cityscapes)).toBe(before);
    db.close();
  });

  it('imports GTA5 and SYNTHIA as sources with labels and depth', async () => {
    const { dir, db } = freshProject('sources');
    const gta = await importDataset(db, demo.gta5, { projectDir: dir });
    expect(gta).toMatchObject({ kind: 'gta5', role: 'source', counts: { train: 10, val: 0, test: 0 }, withLabels: 10, withDepth: 10, problems: [] });
    const synthia = await importDataset(db, demo.synthia!, { projectDir: dir, role: 'source' });
    expect(synthia).toMatchObject({ kind: 'synthia', role: 'source', withLabels: 10, withDepth: 10, problems: [] });
    db.close();
  });

  it('does not duplicate anything when the same folder is imported twice', async () => {
    const { dir, db } = freshProject('twice');
    const first = await importDataset(db, demo.gta5, { projectDir: dir });
    const second = await importDataset(db, demo.gta5, { projectDir: dir, role: 'target' });
    expect(second.datasetId).toBe(first.datasetId);
    expect(second.role).toBe('target');
    expect((db.prepare('SELECT count(*) AS n FROM datasets').get() as { n: number }).n).toBe(1);
    expect((db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n).toBe(10);
    db.close();
  });

  it('lists corrupt, truncated and mismatched files as problems and imports the rest', async () => {
    const broken = join(work, 'broken-gta');
    cpSync(demo.gta5, broken, { recursive: true });
    writeFileSync(join(broken, 'images', '00001.png'), 'this is not a png at all, just some text');
    const truncated = join(broken, 'images', '00002.png');
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
    writeFileSync(join(broken, 'labels', '00003.png'), encode({ width: 10, height: 10, channels: 1, depth: 8, data: new Uint8Array(100) }));
    rmSync(join(broken, 'labels', '00004.png'));

    const { dir, db } = freshProject('broken');
    const result = await importDataset(db, broken, { projectDir: dir });
    expect(result.counts.train).toBe(8);
    expect(result.withLabels).toBe(6);
    expect(result.problems).toEqual([
      { file: 'images/00001.png', error: 'not a PNG file' },
      { file: 'images/00002.png', error: expect.stringMatching(/^truncated PNG/) },
      { file: 'labels/00003.png', error: expect.stringMatching(/^size mismatch: label is 10x10 but the image is 96x48/) },
      { file: 'labels/00004.png', error: expect.stringMatching(/^missing/) },
    ]);
    expect(listImportProblems(db, result.datasetId)).toHaveLength(4);
    db.close();
  });

  it('refuses a folder that is no dataset with one sentence', async () => {
    const { dir, db } = freshProject('bad');
    await expect(importDataset(db, join(work, 'does-not-exist'), { projectDir: dir })).rejects.toThrow(/does not exist/);
    await expect(importDataset(db, join(demo.gta5, 'images'), { projectDir: dir })).rejects.toThrow(/not a dataset folder the workbench knows/);
    db.close();
  });
});

describe('corda import (CLI)', () => {
  it('prints the documented JSON', () => {
    const project = join(work, 'projects', 'cli');
    const run = corda(['import', demo.cityscapes, '--project', project, '--json']);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(Object.keys(out).sort()).toEqual(['counts', 'datasetId', 'depthSource', 'kind', 'problems', 'role', 'withDepth', 'withLabels']);
    expect(out).toMatchObject({ kind: 'cityscapes', role: 'target', depthSource: 'sgm', problems: [] });
  });

  it('exits 1 with one readable sentence, no stack trace, for a folder that is no dataset', () => {
    const run = corda(['import', tmpdir(), '--project', join(work, 'projects', 'cli-bad'), '--json']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^corda: .* is not a dataset folder the workbench knows: expected a Cityscapes folder/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('leaves nothing half-written when the process dies mid-import', () => {
    const project = join(work, 'projects', 'killed');
    const killed = corda(['import', demo.gta5, '--project', project, '--json'], { CORDA_FAULT_KILL_IMPORT_AFTER_ROWS: '5' });
    expect(killed.signal).toBe('SIGKILL');
    const db = openProjectDb(project);
    expect((db.prepare('SELECT count(*) AS n FROM datasets').get() as { n: number }).n).toBe(0);
    expect((db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n).toBe(0);
    db.close();
    const again = corda(['import', demo.gta5, '--project', project, '--json']);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).counts.train).toBe(10);
  });

  it('keeps the project folder outside the dataset folder', async () => {
    const data = join(work, 'gta-with-project');
    cpSync(demo.gta5, data, { recursive: true });
    const projectDir = join(data, 'myproject');
    const db = openProjectDb(projectDir, { create: true });
    await expect(importDataset(db, data, { projectDir })).rejects.toThrow(/keep projects outside dataset folders/);
    db.close();
    renameSync(projectDir, join(work, 'moved-project'));
  });
});
