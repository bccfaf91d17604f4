// A round request becomes a plan once: defaults from the contract and the preset, the request's options, the
// recipe checked by name and type, the datasets checked; an interrupted round is planned from what it stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ITERS, ROUND_DEFAULTS, StartRoundInput } from '../../shared/api';
import { generateDemoData } from '../datasets/demo/generate';
import { importDataset } from '../datasets/importDataset';
import { openProjectDb, type Db } from '../store/db';
import { createRound, updateRound } from '../store/roundsRepo';
import { defaultConfig } from './config';
import { planResume, planRound } from './plan';

let work: string;
let db: Db;
let source: number;
let target: number;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-plan-'));
  const demo = await generateDemoData(join(work, 'demo'), { images: 4, width: 128, height: 64, seed: 3 });
  const projectDir = join(work, 'project');
  db = openProjectDb(projectDir, { create: true });
  source = (await importDataset(db, demo.gta5, { projectDir })).datasetId;
  target = (await importDataset(db, demo.cityscapes, { projectDir })).datasetId;
});
afterAll(() => {
  db.close();
  rmSync(work, { recursive: true, force: true });
});

/** A request as the contract parses it (its defaults applied). */
const request = (fields: Record<string, unknown> = {}) => StartRoundInput.parse({ sourceDatasetId: source, targetDatasetId: target, crop: { width: 64, height: 32 }, ...fields });

describe('planRound', () => {
  it('fills what the request leaves out from the contract and the preset', () => {
    const plan = planRound(db, request());
    expect(plan).toMatchObject({ sourceDatasetId: source, targetDatasetId: target, parentRoundId: null });
    expect(plan.config).toEqual(defaultConfig(ROUND_DEFAULTS.method, ROUND_DEFAULTS.preset, { crop: { width: 64, height: 32 } }));
    expect(plan.config).toMatchObject({ method: 'corda', preset: 'tiny', iters: DEFAULT_ITERS.tiny, seed: 1, useCorrections: true });
  });

  it('takes every option of the request, the recipe before the crop', () => {
    const plan = planRound(db, request({
      method: 'dacs', iters: 40, seed: 9, batchSize: 4, checkpointEvery: 7, evalEvery: 0, workingWidth: 96, useCorrections: false,
      recipe: { emaDecay: 0.95, flip: true, batchSize: 6 },
    }));
    expect(plan.config).toMatchObject({
      method: 'dacs', iters: 40, seed: 9, checkpointEvery: 7, evalEvery: 0, sourceWidth: 96, targetWidth: 96, useCorrections: false,
      emaDecay: 0.95, flip: true, batchSize: 6, crop: { width: 64, height: 32 },
    });
    // Without evalEvery, the val scorings follow the iterations.
    expect(planRound(db, request({ iters: 40 })).config.evalEvery).toBe(10);
  });

  it('refuses with one sentence what cannot run, before anything is written', () => {
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ recipe: { nonsense: 1 } }, /The recipe does not know the setting "nonsense"/],
      [{ recipe: { crop: 'x' } }, /does not know the setting "crop"/],
      [{ recipe: { pretrained: '/tmp' } }, /does not know the setting "pretrained"/],
      [{ recipe: { emaDecay: 'high' } }, /The recipe's emaDecay must be a number/],
      [{ variant: 'synthia' }, /The variant applies to the paper preset only/],
      [{ parentRoundId: 3, init: { file: '/x.pth' } }, /round 3 or a checkpoint file, not both/],
      [{ init: { file: join(work, 'none.pth') } }, /There is no checkpoint file at/],
      [{ pretrained: 'relative/encoder' }, /load into the small preset only/],
      [{ preset: 'small', pretrained: 'relative/encoder' }, /must be given as a full path/],
      [{ preset: 'small', pretrained: join(work, 'none') }, /There is no pretrained encoder folder at/],
      [{ sourceDatasetId: 99 }, /There is no dataset 99 in this project/],
      [{ parentRoundId: 42 }, /There is no round 42 to start from/],
      [{ crop: { width: 1024, height: 512 } }, /The crop 1024x512 is larger than/],
      [{ crop: { width: 60, height: 32 } }, /must be a multiple of 8/],
    ];
    for (const [fields, message] of refusals) expect(() => planRound(db, request(fields)), JSON.stringify(fields)).toThrow(message);
    expect((db.prepare('SELECT count(*) AS n FROM rounds').get() as { n: number }).n).toBe(0);
  });
});

describe('planResume', () => {
  it('plans an interrupted round from what it stored, and refuses a finished or unknown one', () => {
    const config = { ...planRound(db, request({ method: 'dacs', iters: 12 })).config, depthScale: 3 };
    const id = createRound(db, { parentId: null, sourceDatasetId: source, targetDatasetId: target, method: 'dacs', preset: 'tiny', config, backend: {} });
    expect(planResume(db, id)).toEqual({ roundId: id, sourceDatasetId: source, targetDatasetId: target, parentRoundId: null, config });
    updateRound(db, id, { status: 'done', finished: true });
    expect(() => planResume(db, id)).toThrow(`Round ${id} is already finished.`);
    expect(() => planResume(db, 42)).toThrow('There is no round 42 in this project.');
  });
});
