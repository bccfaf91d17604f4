// `corda weights inspect` on checkpoints written by python3-torch: the listing, the match against a preset, and
// one sentence with a non-zero exit for a file that does not load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../core/model/backend';
import { CordaNetwork, PRESETS } from '../core/model/network';
import { torchStateDictShapes } from '../core/model/torchLayout';
import { runCorda } from './runInProcess';

const PYTHON = process.env.CORDA_TWIN_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true';
if (!hasTorch && !inCi) console.log(`weightsCommand.test: skipping: ${PYTHON} cannot import torch (install Debian's python3-torch).`);

// Saves {'model': ..., 'ema_model': ..., 'iteration': 7} with every key under `module.`; in the model one
// tensor has another shape and one key the network lacks, the EMA teacher fits exactly.
const WRITE = `
import json, sys, torch
shapes = json.load(open(sys.argv[1]))
ema = {"module." + k: torch.randn(v) if v else torch.tensor(1.5) for k, v in shapes.items()}
model = dict(ema)
first = next(iter(shapes))
model["module." + first] = torch.randn([n + 1 for n in shapes[first]])
model["module.extra.weight"] = torch.zeros(3)
torch.save({"model": model, "ema_model": ema, "iteration": 7}, sys.argv[2], _use_new_zipfile_serialization=sys.argv[3] == "zip")
`;

const run = (...args: string[]) => runCorda(['weights', 'inspect', ...args]);

describe.skipIf(!hasTorch && !inCi)('corda weights inspect', () => {
  let dir = '';
  let shapes = new Map<string, number[]>();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'corda-weights-'));
    await initBackend('cpu');
    const network = new CordaNetwork(PRESETS.tiny, 'corda', 0).build();
    shapes = torchStateDictShapes(network);
    network.params.dispose();
    writeFileSync(join(dir, 'shapes.json'), JSON.stringify(Object.fromEntries(shapes)));
    writeFileSync(join(dir, 'write.py'), WRITE);
    for (const format of ['zip', 'legacy']) {
      const saved = spawnSync(PYTHON, [join(dir, 'write.py'), join(dir, 'shapes.json'), join(dir, `tiny.${format}.pth`), format], { encoding: 'utf8' });
      if (saved.status !== 0) throw new Error(saved.stderr);
    }
    writeFileSync(join(dir, 'notes.txt'), 'not a checkpoint at all');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the state dict with shapes and dtypes', async () => {
    const { code, out } = await run(join(dir, 'tiny.zip.pth'), '--json');
    expect(code).toBe(0);
    const result = JSON.parse(out[0]!);
    expect(result).toMatchObject({ format: 'zip', from: 'model', path: 'model', strippedPrefixes: ['module.'], others: [{ key: 'ema_model', kind: 'dict' }, { key: 'iteration', kind: 'value', value: 7 }] });
    expect(result.totals.tensors).toBe(shapes.size + 1);
    expect(result.tensors).toContainEqual({ name: 'extra.weight', shape: [3], dtype: 'float32' });
    const text = await run(join(dir, 'tiny.legacy.pth'));
    expect(text.code).toBe(0);
    expect(text.out[0]).toMatch(/^tiny\.legacy\.pth: legacy format, .*the "model" state dict \(prefixes removed: module\.\): \d+ tensors/);
  });

  it('matches the model and the EMA teacher against the preset', async () => {
    for (const format of ['zip', 'legacy']) {
      const teacher = JSON.parse((await run(join(dir, `tiny.${format}.pth`), '--preset', 'tiny', '--from', 'ema_model', '--json')).out[0]!);
      expect(teacher.match).toMatchObject({ preset: 'tiny', missing: [], unexpected: [], shapeMismatches: [] });
      expect(teacher.match.loaded).toHaveLength(shapes.size);
      const model = JSON.parse((await run(join(dir, `tiny.${format}.pth`), '--preset', 'tiny', '--json')).out[0]!);
      const [first, shape] = [...shapes][0]!;
      expect(model.match).toMatchObject({ missing: [], unexpected: ['extra.weight'], shapeMismatches: [{ name: first, expected: shape, found: shape.map((n) => n + 1) }] });
      expect(model.match.loaded).toHaveLength(shapes.size - 1);
    }
  });

  it('says in one sentence why a file does not load, with a non-zero exit', async () => {
    const bad = await run(join(dir, 'notes.txt'), '--json');
    expect(bad.code).toBe(1);
    expect(bad.out).toEqual([]);
    expect(bad.err).toEqual(['corda: "notes.txt" is not a PyTorch checkpoint (it does not start with pickle data), so it was not loaded.']);
    const usage = await run(join(dir, 'tiny.zip.pth'), '--from', 'teacher');
    expect(usage.code).toBe(2);
    expect(usage.err).toEqual(['corda: --from must be model or ema_model, got "teacher".']);
  });
});
