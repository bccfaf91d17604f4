// A round's weights go out through torchLayout into a real torch.save file (Debian's python3-torch), come back
// with `corda import-model` as a finished round that predicts exactly what the round predicted, and start rounds
// with `corda adapt --from` and `corda adapt --init`; files that do not fit are refused with one sentence.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../datasets/demo/generate';
import { initBackend } from '../model/backend';
import { readCheckpoint } from '../model/checkpoint';
import { torchName, torchShape } from '../model/torchLayout';
import { loadTorchInit, toEngineLayout, toTorchLayout } from '../model/torchInit';
import { getImage, listImages } from '../store/datasetsRepo';
import { openProjectDb } from '../store/db';
import { listRegions } from '../store/regionsRepo';
import { getLayer, getRound, latestCheckpoint, listRounds } from '../store/roundsRepo';
import { defaultConfig } from './config';
import type { EventMessage } from '../../shared/api';
import { createService } from '../service';
import { networkFor } from './networkFor';
import { summariseRound } from './roundSummary';

const PYTHON = process.env.CORDA_TWIN_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch && process.env.CI !== 'true') {
  console.log(`importModel.test: skipping the checkpoint round trip: ${PYTHON} cannot import torch (install Debian's python3-torch).`);
}

// Saves {model, ema_model, iteration} with torch.save from a manifest of float32 arrays in torch layout.
const SAVE = `
import collections, json, sys
import numpy as np, torch
manifest = json.load(open(sys.argv[1]))
blob = np.fromfile(sys.argv[2], dtype=np.float32)
def state(which):
    d = collections.OrderedDict()
    for t in manifest[which]:
        d[t["name"]] = torch.from_numpy(blob[t["offset"]:t["offset"] + t["length"]].copy()).reshape(t["shape"])
    return d
torch.save({"model": state("model"), "ema_model": state("ema_model"), "iteration": 2}, sys.argv[3])
`;

const CLI_ARGS = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts')];
let work: string;
let project: string;
const corda = (args: string[]) => spawnSync(process.execPath, [...CLI_ARGS, ...args], { encoding: 'utf8' });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-import-model-'));
  project = join(work, 'project');
  const demo = await generateDemoData(join(work, 'demo'), { images: 4, width: 128, height: 64, seed: 5 });
  for (const folder of [demo.gta5, demo.cityscapes]) expect(corda(['import', folder, '--project', project]).status).toBe(0);
  await initBackend('cpu');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('torch layouts', () => {
  it('toTorchLayout and toEngineLayout undo each other for every parameter of the tiny network', () => {
    const net = networkFor(defaultConfig('corda', 'tiny'));
    try {
      for (const spec of net.params.specs.values()) {
        const values = Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, (_, i) => i);
        const torch = toTorchLayout(spec, values);
        expect(torch.length).toBe(values.length);
        expect(toEngineLayout(spec, { data: torch })).toEqual(values);
      }
      // A conv filter [kh, kw, in, out] = [1, 1, 2, 3] goes to [out, in, kh, kw]: element (o, i) from index i*3 + o.
      expect([...toTorchLayout({ name: 'x.w', shape: [1, 1, 2, 3], kind: 'weight', head: false }, Float32Array.from([0, 1, 2, 3, 4, 5]))]).toEqual([0, 3, 1, 4, 2, 5]);
    } finally {
      net.dispose();
    }
  });
});

describe('the paper preset', () => {
  it("is matched by the reference state-dict keys and PyTorch's layouts", () => {
    // PyTorch keeps convolutions as [out, in, kh, kw] where the engine keeps [kh, kw, in, out].
    const torchShapeOf = (shape: number[]) => (shape.length === 4 ? [shape[3]!, shape[2]!, shape[0]!, shape[1]!] : shape);
    const net = networkFor(defaultConfig('corda', 'paper'));
    try {
      const differ = [...net.params.specs.values()].filter((spec) => torchName(spec) !== spec.name || torchShape(spec).join() !== torchShapeOf(spec.shape).join());
      expect(differ.map((spec) => spec.name)).toEqual([]);
      expect(net.params.specs.size).toBeGreaterThan(600);
    } finally {
      net.dispose();
    }
  }, 120_000);
});

describe.runIf(hasTorch || process.env.CI === 'true')('corda import-model and adapt --init', () => {
  let checkpoint: string;
  let parameters: number;

  it('exports a finished round through torchLayout into a torch.save file', () => {
    const round = corda(['adapt', '--project', project, '--iters', '2', '--crop', '64x32', '--eval-every', '0', '--json']);
    expect(round.status, round.stderr).toBe(0);
    const db = openProjectDb(project);
    const saved = readCheckpoint(latestCheckpoint(db, 1)!.path);
    db.close();
    const net = networkFor(defaultConfig('corda', 'tiny'));
    const manifest: Record<string, { name: string; shape: number[]; offset: number; length: number }[]> = { model: [], ema_model: [] };
    const chunks: Float32Array[] = [];
    let offset = 0;
    for (const [which, prefix] of [['model', 'student/'], ['ema_model', 'teacher/']] as const) {
      for (const spec of net.params.specs.values()) {
        const values = toTorchLayout(spec, saved.tensors.get(`${prefix}${spec.name}`)!.data);
        manifest[which]!.push({ name: torchName(spec), shape: torchShape(spec), offset, length: values.length });
        chunks.push(values);
        offset += values.length;
      }
    }
    parameters = net.params.specs.size;
    net.dispose();
    const blob = new Float32Array(offset);
    let at = 0;
    for (const c of chunks) {
      blob.set(c, at);
      at += c.length;
    }
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(work, 'weights.bin'), blob);
    checkpoint = join(work, 'tiny-round1.pth');
    const saving = spawnSync(PYTHON, ['-c', SAVE, join(work, 'manifest.json'), join(work, 'weights.bin'), checkpoint], { encoding: 'utf8' });
    expect(saving.status, saving.stderr).toBe(0);
  });

  it('stores the checkpoint as a finished round that predicts what the round predicted', () => {
    const imported = corda(['import-model', checkpoint, '--project', project, '--json']);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(new RegExp(`Initial weights from tiny-round1.pth \\(model, sha256 [0-9a-f]{12}…\\): ${parameters} loaded, 0 missing, 0 unexpected, 0 with another shape`));
    const out = JSON.parse(imported.stdout);
    expect(out).toMatchObject({ roundId: 2, loaded: parameters, missing: [], unexpected: [] });
    const db = openProjectDb(project);
    try {
      const [trained, stored] = [getRound(db, 1)!, getRound(db, 2)!];
      expect(stored.status).toBe('done');
      expect(out.metrics.mIoU).toBeCloseTo(trained.metrics!.mIoU as number, 6);
      expect(stored.config.startedFrom).toMatchObject({ name: 'tiny-round1.pth', from: 'model', sha256: createHash('sha256').update(readFileSync(checkpoint)).digest('hex') });
      // What the Rounds view lists: an imported round, no iterations of its own.
      expect(summariseRound(db, stored, () => 1)).toMatchObject({ status: 'done', iteration: 0, iters: 0, startedFrom: { name: 'tiny-round1.pth', imported: true } });
      const targets = listImages(db, { datasetId: stored.targetDatasetId }).map((i) => getImage(db, i.id)!);
      expect(targets.length).toBeGreaterThan(0);
      for (const image of targets) {
        for (const layer of ['prediction', 'confidence', 'difficulty', 'depth_src', 'depth_tgt'] as const) expect(getLayer(db, 2, image.id, layer), `${layer} of image ${image.id}`).not.toBeNull();
        expect(getLayer(db, 2, image.id, 'prediction')!.equals(getLayer(db, 1, image.id, 'prediction')!)).toBe(true);
      }
      expect(listRegions(db, 2).length).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('continues from the imported round with --from', () => {
    const next = corda(['adapt', '--project', project, '--from', '2', '--iters', '2', '--crop', '64x32', '--eval-every', '0', '--json']);
    expect(next.status, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).roundId).toBe(3);
  });

  it('starts a round from the checkpoint with --init (the EMA teacher with --init-from ema_model) and records it', () => {
    const run = corda(['adapt', '--project', project, '--init', checkpoint, '--init-from', 'ema_model', '--iters', '2', '--crop', '64x32', '--eval-every', '0', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Initial weights from tiny-round1.pth \(ema_model/);
    const out = JSON.parse(run.stdout);
    expect(out.init).toMatchObject({ file: checkpoint, from: 'ema_model', loaded: parameters, missing: [], unexpected: [], shapeMismatches: [] });
    const db = openProjectDb(project);
    expect(getRound(db, out.roundId)!.config.startedFrom).toMatchObject({ name: 'tiny-round1.pth', sha256: out.init.sha256 });
    expect(summariseRound(db, getRound(db, out.roundId)!, () => 1).startedFrom).toEqual({ name: 'tiny-round1.pth', sha256: out.init.sha256, imported: false });
    db.close();
  });

  it('starts a round from the checkpoint through the service, as the Rounds form does', async () => {
    const service = createService({ projectDir: project, transport: 'cli' });
    try {
      const finished = new Promise<EventMessage>((resolve) =>
        service.onEvent((m) => {
          if (m.event === 'jobFinished' && m.payload.kind === 'round') resolve(m);
        }),
      );
      const datasets = await service.call('listDatasets', {});
      const [sourceId, targetId] = ['source', 'target'].map((role) => datasets.find((d) => d.role === role)!.id);
      await service.call('startRound', { sourceDatasetId: sourceId!, targetDatasetId: targetId!, method: 'dacs', iters: 2, init: { file: checkpoint, from: 'model' } });
      expect((await finished).payload).toMatchObject({ status: 'done' });
      const rounds = await service.call('listRounds', {});
      expect(rounds.at(-1)).toMatchObject({ status: 'done', startedFrom: { name: 'tiny-round1.pth', imported: false } });
    } finally {
      service.close();
    }
  });

  it('refuses a checkpoint of another preset, a file that is no checkpoint and --from with --init, writing nothing', () => {
    const db = openProjectDb(project);
    const before = listRounds(db).length;
    db.close();
    const other = corda(['adapt', '--project', project, '--init', checkpoint, '--preset', 'small', '--iters', '2', '--crop', '64x32']);
    expect(other.status).toBe(1);
    // One sentence (the lines before it are the backend's notes), no stack.
    expect(other.stderr.split('\n').filter((line) => line.startsWith('corda:'))).toHaveLength(1);
    expect(other.stderr).not.toMatch(/\n\s+at /);
    expect(other.stderr).toMatch(/tiny-round1\.pth.*(fit the small network|another shape than in the small network).*--preset/);
    const junk = join(work, 'junk.pth');
    writeFileSync(junk, 'not a checkpoint at all');
    const bad = corda(['import-model', junk, '--project', project]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^corda: .*junk\.pth/m);
    expect(bad.stderr.split('\n').filter((line) => line.startsWith('corda:'))).toHaveLength(1);
    const both = corda(['adapt', '--project', project, '--init', checkpoint, '--from', '1', '--iters', '2', '--crop', '64x32']);
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/either --from 1 or --init/);
    const after = openProjectDb(project);
    expect(listRounds(after).length).toBe(before);
    after.close();
  });

  it('refuses, on resuming a round, a checkpoint file that changed since the round started from it', async () => {
    const net = networkFor(defaultConfig('corda', 'tiny'));
    try {
      await expect(loadTorchInit(net, checkpoint, 'model', 'tiny', '0'.repeat(64))).rejects.toThrow(/"tiny-round1\.pth" has changed since the round started from it .*start a new round/);
    } finally {
      net.dispose();
    }
  });
});
