// `npm run bench`: measured figures, printed with the machine they were measured on. Not a test: nothing here
// passes or fails on speed. Runs the built CLI (npm run build first).
//   import: generates N target images in the Cityscapes layout (default 3000 at 256x128) and times the import
//           (a header-only scan + one transaction), then a second import of the same folder (no duplicates).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  console.error('bench: the CLI is not built. Run `npm run build` first.');
  process.exit(1);
}
const images = Number(process.env.BENCH_IMAGES ?? 3000);

function corda(...args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`bench: corda ${args[0]} failed: ${result.stderr.trim()}`);
    process.exit(1);
  }
  return { seconds: (performance.now() - started) / 1000, out: result.stdout };
}

const work = mkdtempSync(join(tmpdir(), 'corda-bench-'));
try {
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`);
  const gen = corda('demo-data', join(work, 'demo'), '--images', String(images), '--size', '256x128', '--seed', '1');
  console.log(`demo-data: ${images} source + ${images} target images at 256x128 in ${gen.seconds.toFixed(1)} s`);
  const project = join(work, 'project');
  const first = corda('import', join(work, 'demo', 'cityscapes'), '--project', project, '--json');
  const counts = JSON.parse(first.out).counts;
  const total = counts.train + counts.val + counts.test;
  console.log(`import (Cityscapes layout, ${total} images, new project): ${first.seconds.toFixed(2)} s wall incl. process start, ${(total / first.seconds).toFixed(0)} images/s`);
  const again = corda('import', join(work, 'demo', 'cityscapes'), '--project', project, '--json');
  console.log(`re-import of the same folder: ${again.seconds.toFixed(2)} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
