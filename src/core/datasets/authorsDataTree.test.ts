// The CorDA authors' data tree (qinenergy/corda extra/data_tree) opens as it is: CityScapes/ with their monocular
// disparity and SFSU stereo depth, gta/ with disparity, RAND_CITYSCAPES/ with simulator depth.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError, type DatasetKind, type ImportResult } from '../../shared/api';
import { writePng } from '../testFixtures/project';
import { openProjectDb, type Db } from '../store/db';
import { getImage, listImages, listImportProblems } from '../store/datasetsRepo';
import { metresToTarget, readDepthTarget } from './depthIO';
import { importDataset } from './importDataset';
import { writeDepthMat } from '../testFixtures/matFiles';
import { treeHash } from '../testFixtures/treeHash';

const W = 16;
const H = 8;
const CLI_ARGS = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts')];
const TRAIN = [
  ['aachen', 'aachen_000000_000019'],
  ['aachen', 'aachen_000001_000019'],
  ['bochum', 'bochum_000000_000313'],
] as const;
const VAL = [['frankfurt', 'frankfurt_000000_000294']] as const;

let work: string;
let data: string;
let treeBefore: string;

/** Depth in metres of train image `i` at (row, col): 0.05 m (invalid) in one corner, 1000 m (clipped) in another. */
function metres(i: number, row: number, col: number): number {
  if (row === 0 && col === 0) return 0.05;
  if (row === H - 1 && col === W - 1) return 1000;
  return 2 + row * 1.5 + col * 0.25 + i;
}

/** Monocular normalised disparity (uint16) of image `i`. */
const monoRaw = (i: number) => Uint16Array.from({ length: W * H }, (_, k) => (k * 409 + i * 7919) % 65536);

function writePng16(path: string, raw: Uint16Array, channels = 1): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encode({ width: W, height: H, channels, depth: 16, data: raw }));
}

function writeAuthorsCityscapes(root: string): void {
  const images = [...TRAIN.map(([city, stem]) => ['train', city, stem] as const), ...VAL.map(([city, stem]) => ['val', city, stem] as const)];
  images.forEach(([split, city, stem], i) => {
    writePng(join(root, 'leftImg8bit_trainvaltest', 'leftImg8bit', split, city, `${stem}_leftImg8bit.png`), W, H, 3, (k) => (k * 13 + i) % 256);
    writePng(join(root, 'gtFine_trainvaltest', 'gtFine', split, city, `${stem}_gtFine_labelIds.png`), W, H, 1, (k) => (k % 2 ? 7 : 26));
  });
  // As the reference reads them: depth only for train images.
  TRAIN.forEach(([city, stem], i) => {
    writeDepthMat(join(root, 'depth', 'train', city, `${stem}_depth_stereoscopic.mat`), W, H, (row, col) => metres(i, row, col), i !== 1);
    writePng16(join(root, 'disparity', 'train', city, `${stem}_leftImg8bit.png`), monoRaw(i));
  });
}

function writeGta(root: string): void {
  for (let i = 1; i <= 3; i++) {
    const name = `${String(i).padStart(5, '0')}.png`;
    writePng(join(root, 'images', name), W, H, 3, (k) => (k + i) % 256);
    writePng(join(root, 'labels', name), W, H, 1, () => 7);
    writePng16(join(root, 'disparity', name), monoRaw(i));
  }
}

function writeSynthia(root: string): void {
  for (let i = 0; i < 2; i++) {
    const name = `${String(i).padStart(7, '0')}.png`;
    writePng(join(root, 'RGB', name), W, H, 3, (k) => (k * 3 + i) % 256);
    writePng16(join(root, 'GT', 'LABELS', name), Uint16Array.from({ length: W * H * 3 }, (_, k) => (k % 3 === 0 ? 3 : 0)), 3);
    writePng(join(root, 'synthia_mapped_to_cityscapes', name), W, H, 1, () => 3);
    writePng16(join(root, 'Depth', 'Depth', name), Uint16Array.from({ length: W * H }, (_, k) => (k === 0 ? 65535 : 100 * (k + i))));
  }
}

function corda(args: string[]) {
  return spawnSync(process.execPath, [...CLI_ARGS, ...args], { encoding: 'utf8' });
}

function freshProject(name: string): { dir: string; db: Db } {
  const dir = join(work, 'projects', name);
  return { dir, db: openProjectDb(dir, { create: true }) };
}

/** Each train image's depth target, read through the stored paths as training reads it. */
async function trainDepths(db: Db, datasetId: number): Promise<{ name: string; depthPath: string | null; data: Float32Array | null }[]> {
  return Promise.all(
    listImages(db, { datasetId, split: 'train' }).map(async (summary) => {
      const image = getImage(db, summary.id)!;
      if (!image.depthPath) return { name: image.name, depthPath: null, data: null };
      const map = await readDepthTarget(image.kind as DatasetKind, join(image.root, image.depthPath), image.cameraPath && join(image.root, image.cameraPath));
      expect([map.width, map.height]).toEqual([W, H]);
      return { name: image.name, depthPath: image.depthPath, data: map.data };
    }),
  );
}

const stereoTarget = (i: number) => Float32Array.from({ length: W * H }, (_, k) => metresToTarget(metres(i, Math.floor(k / W), k % W)));
const monoTarget = (i: number) => Float32Array.from(monoRaw(i), (raw) => raw / 256 + 1);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'corda-authors-tree-'));
  data = join(work, 'data');
  writeAuthorsCityscapes(join(data, 'CityScapes'));
  writeGta(join(data, 'gta'));
  writeSynthia(join(data, 'RAND_CITYSCAPES'));
  treeBefore = treeHash(data);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the authors' data tree", () => {
  it('imports CityScapes/ with SFSU stereo depth on every train image by default, as the reference trains', async () => {
    const { dir, db } = freshProject('stereo');
    const result = await importDataset(db, join(data, 'CityScapes'), { projectDir: dir });
    expect(result).toMatchObject({ kind: 'cityscapes', counts: { train: 3, val: 1, test: 0 }, withLabels: 4, withDepth: 3, depthSource: 'stereo', problems: [] });
    const depths = await trainDepths(db, result.datasetId);
    depths.forEach(({ name, depthPath, data: target }) => {
      const i = TRAIN.findIndex(([, stem]) => stem === name);
      expect(depthPath).toMatch(/^depth\/train\/[a-z]+\/[a-z]+_\d{6}_\d{6}_depth_stereoscopic\.mat$/);
      expect(Array.from(target!)).toEqual(Array.from(stereoTarget(i)));
      expect(target![0]).toBe(1); // 0.05 m: invalid
    });
    db.close();
  });

  it('takes their monocular disparity with --depth mono, and names the source in import --json and datasets --json', () => {
    const project = join(work, 'projects', 'cli');
    const stereo = corda(['import', join(data, 'CityScapes'), '--project', project, '--json']);
    expect(stereo.status, stereo.stderr).toBe(0);
    expect(JSON.parse(stereo.stdout) as ImportResult).toMatchObject({ depthSource: 'stereo', withDepth: 3 });
    const mono = corda(['import', join(data, 'CityScapes'), '--project', project, '--depth', 'mono', '--json']);
    expect(mono.status, mono.stderr).toBe(0);
    expect(JSON.parse(mono.stdout) as ImportResult).toMatchObject({ datasetId: JSON.parse(stereo.stdout).datasetId, depthSource: 'mono', withDepth: 3 });
    const list = corda(['datasets', '--project', project, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject([{ kind: 'cityscapes', depthSource: 'mono' }]);
  });

  it('reads the monocular disparity as raw / 256 + 1 on every train image', async () => {
    const { dir, db } = freshProject('mono');
    const result = await importDataset(db, join(data, 'CityScapes'), { projectDir: dir, depth: 'mono' });
    expect(result).toMatchObject({ withDepth: 3, depthSource: 'mono' });
    for (const { name, depthPath, data: target } of await trainDepths(db, result.datasetId)) {
      expect(depthPath).toMatch(/^disparity\/train\/.*_leftImg8bit\.png$/);
      expect(Array.from(target!)).toEqual(Array.from(monoTarget(TRAIN.findIndex(([, stem]) => stem === name))));
    }
    const none = await importDataset(db, join(data, 'CityScapes'), { projectDir: dir, depth: 'none' });
    expect(none).toMatchObject({ withDepth: 0, depthSource: null });
    db.close();
  });

  it('imports gta/ with its disparity and RAND_CITYSCAPES/ with simulator depth on every image', async () => {
    const { dir, db } = freshProject('sources');
    const gta = await importDataset(db, join(data, 'gta'), { projectDir: dir });
    expect(gta).toMatchObject({ kind: 'gta5', role: 'source', counts: { train: 3 }, withLabels: 3, withDepth: 3, depthSource: 'mono', problems: [] });
    for (const { name, data: target } of await trainDepths(db, gta.datasetId)) expect(Array.from(target!)).toEqual(Array.from(monoTarget(Number(name))));
    const synthia = await importDataset(db, join(data, 'RAND_CITYSCAPES'), { projectDir: dir });
    expect(synthia).toMatchObject({ kind: 'synthia', withLabels: 2, withDepth: 2, depthSource: 'simulator', problems: [] });
    for (const { name, data: target } of await trainDepths(db, synthia.datasetId)) {
      expect(target![0]).toBe(1); // 65535: far
      expect(target![1]).toBeCloseTo(65536 / (100 * (1 + Number(name)) + 1), 4);
    }
    db.close();
  });

  it('keeps the official SGM disparity and camera working beside their monocular disparity in the same folder', async () => {
    const mixed = join(work, 'mixed-cityscapes');
    cpSync(join(data, 'CityScapes'), mixed, { recursive: true });
    rmSync(join(mixed, 'depth'), { recursive: true });
    TRAIN.forEach(([city, stem]) => {
      writePng16(join(mixed, 'disparity', 'train', city, `${stem}_disparity.png`), Uint16Array.from({ length: W * H }, (_, k) => (k === 0 ? 0 : 257 + k)));
      mkdirSync(join(mixed, 'camera', 'train', city), { recursive: true });
      writeFileSync(join(mixed, 'camera', 'train', city, `${stem}_camera.json`), JSON.stringify({ extrinsic: { baseline: 0.2 }, intrinsic: { fx: 1000 } }));
    });
    const { dir, db } = freshProject('mixed');
    expect(await importDataset(db, mixed, { projectDir: dir })).toMatchObject({ depthSource: 'mono', withDepth: 3 });
    const sgm = await importDataset(db, mixed, { projectDir: dir, depth: 'sgm' });
    expect(sgm).toMatchObject({ depthSource: 'sgm', withDepth: 3, problems: [] });
    for (const { depthPath, data: target } of await trainDepths(db, sgm.datasetId)) {
      expect(depthPath).toMatch(/_disparity\.png$/);
      expect(target![0]).toBe(1);
      expect(target![1]).toBeCloseTo(metresToTarget((0.2 * 1000) / ((258 - 1) / 256)), 4);
    }
    db.close();
  });

  it('refuses a depth source the folder does not hold with one sentence and a non-zero exit', async () => {
    const { dir, db } = freshProject('refused');
    await expect(importDataset(db, join(data, 'CityScapes'), { projectDir: dir, depth: 'sgm' })).rejects.toThrow(
      /holds no official SGM disparity .* for its images: it holds stereo and mono depth; pick one of those with --depth, or none\.$/,
    );
    await expect(importDataset(db, join(data, 'gta'), { projectDir: dir, depth: 'stereo' })).rejects.toThrow(/^A gta5 folder has no stereo depth; --depth takes mono, none for it\.$/);
    db.close();
    const project = join(work, 'projects', 'cli-refused');
    for (const args of [['--depth', 'sgm'], ['--depth', 'lidar']]) {
      const run = corda(['import', join(data, 'CityScapes'), '--project', project, ...args, '--json']);
      expect(run.status).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^corda: .*\.\n$/);
    }
  });

  it('lists a .mat that is no MAT-file as a problem, and says in one sentence when a truncated one is read', async () => {
    const broken = join(work, 'broken-cityscapes');
    cpSync(join(data, 'CityScapes'), broken, { recursive: true });
    const [city0, stem0] = TRAIN[0];
    const [city2, stem2] = TRAIN[2];
    writeFileSync(join(broken, 'depth', 'train', city0, `${stem0}_depth_stereoscopic.mat`), 'not a MAT-file, just text that is long enough to fill a header'.repeat(4));
    const truncated = join(broken, 'depth', 'train', city2, `${stem2}_depth_stereoscopic.mat`);
    truncateSync(truncated, statSync(truncated).size - 40);
    const { dir, db } = freshProject('broken');
    const result = await importDataset(db, broken, { projectDir: dir });
    expect(result).toMatchObject({ depthSource: 'stereo', withDepth: 2 });
    expect(listImportProblems(db, result.datasetId)).toEqual([
      { file: `depth/train/${city0}/${stem0}_depth_stereoscopic.mat`, error: expect.stringMatching(/^the file is not a MATLAB v5 MAT-file .*; the image is imported without depth$/) },
    ]);
    const error = await readDepthTarget('cityscapes', truncated, null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^\S+\.mat is truncated or damaged: [^\n]+\.$/);
    db.close();
  });

  it('names the dataset folders inside the data tree when its parent folder is picked', async () => {
    const { dir, db } = freshProject('parent');
    await expect(importDataset(db, data, { projectDir: dir })).rejects.toThrow(
      /is not a dataset folder the workbench knows: expected .*; it holds dataset folders \(CityScapes, RAND_CITYSCAPES, gta\): import each of them on its own\.$/,
    );
    db.close();
  });

  it("never modifies the user's folders", () => {
    expect(treeHash(data)).toBe(treeBefore);
  });
});
