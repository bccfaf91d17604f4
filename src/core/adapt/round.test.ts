// End to end through the CLI on generated data: a round runs, is killed mid-training, resumes from its last
// checkpoint and finishes with metrics; bad requests get one sentence and exit code 1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../datasets/demo/generate';
import { openProjectDb } from '../store/db';
import { getRound, latestCheckpoint } from '../store/roundsRepo';

const CLI_ARGS = ['--require', require.resolve('tsx/cjs'), join(__dirname, '..', '..', 'cli', 'run.ts')];
let work: string;
let project: string;

function corda(args: string[]) {
  return spawnSync(process.execPath, [...CLI_ARGS, ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'corda-round-'));
  project = join(work, 'project');
  const demo = await generateDemoData(join(work, 'demo'), { images: 6, width: 128, height: 64, seed: 2 });
  for (const folder of [demo.gta5, demo.cityscapes]) expect(corda(['import', folder, '--project', project]).status).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('corda adapt', () => {
  it('resumes a round killed mid-training from its last checkpoint and finishes it', async () => {
    const child = spawn(process.execPath, [...CLI_ARGS, 'adapt', '--project', project, '--iters', '16', '--checkpoint-every', '4', '--crop', '64x32', '--seed', '3'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (/iter (1[0-5])\/16/.test(log)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`adapt ended before it could be killed: ${log}`)));
    });
    await new Promise((resolve) => child.once('exit', resolve));

    const db = openProjectDb(project);
    const killed = getRound(db, 1)!;
    expect(killed.status).toBe('running');
    const checkpoint = latestCheckpoint(db, 1)!;
    expect(checkpoint.iteration).toBeGreaterThanOrEqual(8);
    expect(checkpoint.iteration).toBeLessThan(16);
    db.close();

    const resumed = corda(['adapt', '--project', project, '--resume', '1', '--json']);
    expect(resumed.stderr).toMatch(new RegExp(`iter ${checkpoint.iteration + 1}/16`));
    expect(resumed.status).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out).toMatchObject({ roundId: 1, backend: 'wasm' });
    expect(out.metrics.mIoU).toBeGreaterThanOrEqual(0);
    expect(Object.keys(out.metrics.perClass)).toHaveLength(19);

    // The learning curve (default: every 10 iterations of 16, then the final evaluation) survives the kill.
    expect(out.curve.map((p: { iteration: number }) => p.iteration)).toEqual([10, 16]);
    expect(out.curve.at(-1).valMIoU).toBe(out.metrics.val.mIoU);

    // The depth scale is resolved once (the median source target, far above 1 for stereo-like targets), stored with
    // the round, and a child round keeps it with no warm-up of its own.
    const childRound = corda(['adapt', '--project', project, '--from', '1', '--iters', '2', '--crop', '64x32', '--eval-every', '0', '--json']);
    expect(childRound.status).toBe(0);
    const configs = openProjectDb(project);
    const parentConfig = getRound(configs, 1)!.config;
    const childConfig = getRound(configs, JSON.parse(childRound.stdout).roundId)!.config;
    configs.close();
    expect(parentConfig).toMatchObject({ sourceWarmup: 0.2 });
    expect(parentConfig.depthScale).toBeGreaterThan(2);
    expect(childConfig).toMatchObject({ depthScale: parentConfig.depthScale, sourceWarmup: 0 });

    const evaluated = corda(['eval', '--project', project, '--round', '1', '--json']);
    expect(JSON.parse(evaluated.stdout)).toEqual(out.metrics);
    const predicted = corda(['predict', '--project', project, '--round', '1', '--image', join(work, 'demo', 'gta5', 'images', '00001.png'), '--out', join(work, 'pred.png')]);
    expect(predicted.status).toBe(0);

    // Deterministic for a seed, and the killed-and-resumed round ends with exactly the weights of an unbroken one.
    const unbroken = corda(['adapt', '--project', project, '--iters', '16', '--checkpoint-every', '4', '--crop', '64x32', '--seed', '3', '--json']);
    expect(unbroken.status).toBe(0);
    const check = openProjectDb(project);
    expect(latestCheckpoint(check, JSON.parse(unbroken.stdout).roundId)!.sha256).toBe(latestCheckpoint(check, 1)!.sha256);
    expect(getRound(check, 1)!.curve).toEqual(out.curve);
    check.close();
    expect(JSON.parse(unbroken.stdout).curve).toEqual(out.curve);
  }, 180_000); // two tiny rounds on 2 cores: ~50 s alone, more while other suites run

  it('scores the target val split every --eval-every iterations and ends the curve with the round\'s val mIoU', () => {
    const run = corda(['adapt', '--project', project, '--method', 'dacs', '--iters', '8', '--eval-every', '3', '--crop', '64x32', '--seed', '5', '--json']);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.curve.map((p: { iteration: number }) => p.iteration)).toEqual([3, 6, 8]);
    for (const point of out.curve) {
      expect(point.valMIoU).toBeGreaterThanOrEqual(0);
      expect(point.valMIoU).toBeLessThanOrEqual(1);
      expect(Number.isFinite(point.losses.total)).toBe(true);
    }
    expect(out.curve.at(-1).valMIoU).toBe(out.metrics.val.mIoU);
    expect(out.timings.curveSeconds).toBeGreaterThan(0);
    const db = openProjectDb(project);
    expect(getRound(db, out.roundId)!.curve).toEqual(out.curve);
    db.close();
  }, 120_000);

  it('refuses bad requests with one sentence and exit code 1, writing nothing', () => {
    const countRounds = () => {
      const db = openProjectDb(project);
      const n = (db.prepare('SELECT count(*) AS n FROM rounds').get() as { n: number }).n;
      db.close();
      return n;
    };
    const before = countRounds();
    const cases: [string[], RegExp][] = [
      [['--crop', '2048x1024'], /crop 2048x1024 is larger than/],
      [['--iters', '0'], /--iters must be a whole number of at least 1/],
      [['--source', '99'], /no dataset 99/],
      [['--resume', '42'], /no round 42/],
      [['--pretrained', work], /load into the small preset only/],
      [['--eval-every', '1.5'], /--eval-every must be a whole number of at least 0/],
      // wasm's heap: refused with what fits, before the round is written (not a trap mid-round).
      [['--preset', 'small', '--crop', '128x64', '--batch', '400'], /needs about [\d.]+ GiB.*more than the wasm backend's [\d.]+ GiB: batch \d+ fits at this crop/],
    ];
    for (const [args, message] of cases) {
      const run = corda(['adapt', '--project', project, ...args]);
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split('\n').filter((l) => l.startsWith('corda:'))).toEqual([expect.stringMatching(message)]);
    }
    expect(corda(['eval', '--project', project, '--round', '9', '--json']).stderr).toMatch(/no round 9/);
    expect(countRounds()).toBe(before);
  });
});
