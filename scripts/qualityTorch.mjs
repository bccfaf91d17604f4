// `npm run quality -- --torch`: each engine round retrained by the PyTorch twin (scripts/twin_round.py) on the same
// working-size images (`corda export-samples`), from the same weights, with the same seeded draws, and scored on
// the same val images. If the twin adapts and the engine does not, it is the engine; if neither, the recipe.
// Needs Debian's python3-torch (/usr/bin/python3). Rounds that learn from corrections are not twinned (the samples
// carry no corrections).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const TWIN = join(dirname(fileURLToPath(import.meta.url)), 'twin_round.py');

/** One sentence when the twin cannot run here, else null. */
export function torchMissing() {
  const check = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return check.status === 0 ? null : `--torch needs PyTorch for ${PYTHON}: install the Debian package python3-torch.`;
}

/**
 * Retrains engine round `roundId` of `project` in PyTorch. `corda` runs the CLI and returns its stdout; `work` is a
 * scratch folder (the samples are exported once into it). One thread: two oversubscribe a 2-core machine badly
 * (measured 2.6–6.5 s per step against 0.7 s with one). Returns { val, curve, msPerStep, seconds }.
 */
export function torchTwinRound({ corda, project, roundId, work, threads = 1 }) {
  const samples = join(work, 'twin-samples');
  if (!existsSync(join(samples, 'val', 'manifest.json'))) corda('export-samples', '--project', project, '--round', String(roundId), '--out', samples);
  const roundDir = join(work, `twin-round-${roundId}`);
  corda('export-samples', '--project', project, '--round', String(roundId), '--out', roundDir, '--no-samples');
  const started = performance.now();
  const result = spawnSync('nice', ['-n', '10', PYTHON, TWIN, samples, join(roundDir, 'round.json'), '--threads', String(threads)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (result.status !== 0) throw new Error(`the PyTorch twin of round ${roundId} failed: ${(result.stderr || result.error?.message || '').trim().split('\n').pop()}`);
  const out = JSON.parse(result.stdout);
  return { val: out.valMIoU, curve: out.curve, msPerStep: out.msPerStep, seconds: (performance.now() - started) / 1000 };
}
