// `npm run bench [-- --only import|engine|predict] [--presets tiny,small,paper] [--sizes 256x128,512x256] [--steps N] [--backend B]
//                  [--torch-device cpu|cuda] [--python PATH] [--timeout S] [--predict-timed N]`
// Measured figures, printed with the machine and backend they were measured on. Not a test: nothing here passes
// or fails on speed. Runs the built CLI (npm run build first).
//   import: generates N target images (BENCH_IMAGES, default 3000, 256x128) and times `corda import` (a
//           header-only scan + one transaction), then a re-import of the same folder.
//   engine: training ms/step (CorDA step, batch 2), images/s, inference ms/image and peak memory per preset and
//           size; and, where Debian's system python3 has torch (apt-get install python3-torch), the same network
//           and step in PyTorch with the same number of threads, and the ratio. PyTorch runs on the CPU unless
//           --torch-device cuda (or the engine ran on webgpu / tensorflow-gpu and torch sees a CUDA device), so
//           a GPU backend is compared with a GPU. --python picks another interpreter (e.g. a venv with CUDA torch).
//           --timeout: seconds each engine process and the PyTorch run may take (the GPU check kit's time budget);
//           one that takes longer is ended and its row says so.
//   predict: the wait after a round: predict + difficulty of 500 target images at 1024x512 per preset (tiny, small),
//           in tfjs and in ONNX Runtime, timed on --predict-timed images (default 3) and extrapolated; PyTorch CPU
//           on the same work where it is there. Wall and CPU time, with the load average before and after.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = process.env.CORDA_CLI ?? join(root, 'out', 'main', 'cli.js');
const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    presets: { type: 'string' },
    sizes: { type: 'string' },
    steps: { type: 'string' },
    backend: { type: 'string' },
    'torch-device': { type: 'string' },
    python: { type: 'string' },
    'predict-timed': { type: 'string' },
    timeout: { type: 'string' },
  },
});
if (values['torch-device'] && !['cpu', 'cuda'].includes(values['torch-device'])) {
  console.error(`bench: --torch-device takes cpu or cuda, not "${values['torch-device']}".`);
  process.exit(1);
}
if (values.only !== undefined && !['import', 'engine', 'predict'].includes(values.only)) {
  console.error(`bench: --only takes import, engine or predict, not "${values.only}".`);
  process.exit(1);
}
const timeoutS = values.timeout === undefined ? 0 : Number(values.timeout);
if (values.timeout !== undefined && (!Number.isInteger(timeoutS) || timeoutS < 1)) {
  console.error(`bench: --timeout takes a whole number of seconds, not "${values.timeout}".`);
  process.exit(1);
}
/** spawnSync's options for a measured child process: ended with SIGTERM after --timeout seconds. */
const limit = timeoutS ? { timeout: timeoutS * 1000, killSignal: 'SIGTERM' } : {};
const timedOut = (run) => run.error?.code === 'ETIMEDOUT';
if (!existsSync(cli)) {
  console.error('bench: the CLI is not built. Run `npm run build` first.');
  process.exit(1);
}

function corda(...args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (result.status !== 0) {
    console.error(`bench: corda ${args[0]} failed.`);
    process.exit(1);
  }
  return { seconds: (performance.now() - started) / 1000, out: result.stdout };
}

console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`);

if (!values.only || values.only === 'import') {
  const images = Number(process.env.BENCH_IMAGES ?? 3000);
  const work = mkdtempSync(join(tmpdir(), 'corda-bench-'));
  try {
    const gen = corda('demo-data', join(work, 'demo'), '--images', String(images), '--size', '256x128', '--seed', '1');
    console.log(`demo-data: ${images} source + ${images} target images at 256x128 in ${gen.seconds.toFixed(1)} s`);
    const project = join(work, 'project');
    const first = corda('import', join(work, 'demo', 'cityscapes'), '--project', project, '--json');
    const counts = JSON.parse(first.out).counts;
    const total = counts.train + counts.val + counts.test;
    console.log(`import (Cityscapes layout, ${total} images, new project): ${first.seconds.toFixed(2)} s incl. process start, ${(total / first.seconds).toFixed(0)} images/s`);
    const again = corda('import', join(work, 'demo', 'cityscapes'), '--project', project, '--json');
    console.log(`re-import of the same folder: ${again.seconds.toFixed(2)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (!values.only || values.only === 'engine') {
  const presets = values.presets ?? 'tiny,small,paper';
  const sizes = values.sizes ?? '256x128,512x256';
  const steps = values.steps ?? '5';
  // One process per preset and size: a wasm abort (its 4 GiB memory ceiling) ends that process, not the table.
  const engine = { backend: '', rows: [] };
  for (const preset of presets.split(',')) {
    for (const size of sizes.split(',')) {
      const args = [cli, 'bench-engine', '--presets', preset, '--sizes', size, '--steps', steps, '--json'];
      if (values.backend) args.push('--backend', values.backend);
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26, ...limit });
      if (timedOut(run)) {
        engine.rows.push({ preset, size, failed: `timed out after ${timeoutS} s` });
      } else if (run.status === 0) {
        const result = JSON.parse(run.stdout);
        engine.backend = result.backend;
        engine.rows.push(...result.rows);
      } else {
        const last = run.stderr.trim().split('\n').pop().replace(/^(corda|gpu-check): (internal error: )?/, '').replace(/\. Set CORDA_DEBUG.*$/, '');
        const trap = /Aborted\(\)|out of memory|memory access out of bounds|divide by zero/i.test(run.stderr);
        engine.rows.push({ preset, size, failed: trap ? `wasm trap "${last}" (the step needs more than wasm's 4 GiB)` : last });
      }
    }
  }
  let torch = null;
  const python = values.python ?? '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch; print(int(torch.cuda.is_available()))'], { encoding: 'utf8' });
  if (probe.status === 0) {
    const gpuEngine = /gpu/i.test(engine.backend);
    const device = values['torch-device'] ?? (gpuEngine && probe.stdout.trim() === '1' ? 'cuda' : 'cpu');
    const run = spawnSync(python, [join(root, 'scripts', 'bench_torch.py'), presets, sizes, steps, String(cpus().length), device], { encoding: 'utf8', ...limit });
    if (run.status === 0) torch = JSON.parse(run.stdout.trim().split('\n').pop());
    if (torch?.missing?.length) console.log(`pytorch: no twin of ${torch.missing.join(', ')} in this checkout (the paper twin is scripts/deeplabv2_corda.py)`);
    else if (timedOut(run)) console.log(`pytorch: not measured, the run was ended after ${timeoutS} s`);
    else if (!torch) console.log(`pytorch: the comparison failed: ${run.stderr.trim().split('\n').pop()}`);
  } else {
    console.log(`pytorch: not measured (${python} has no torch; apt-get install python3-torch, or --python PATH to an interpreter that has it)`);
  }
  const header = ['preset', 'size', 'train ms/step, 1 thread', `train ms/step, ${cpus().length} threads`, '2 threads, split by passes', 'img/s', 'infer ms/img', 'peak tensors MiB', 'peak RSS MiB'];
  if (torch) header.push(`torch ${torch.torch} ms/step`, 'ratio', 'torch infer ms', 'infer ratio');
  const rows = engine.rows.map((r) => {
    if (r.failed) return [r.preset, r.size, `failed: ${r.failed}`, ...header.slice(3).map(() => '-')];
    const best = Math.min(r.trainMsPerStep, r.parallelMsPerStep ?? Infinity, r.passSplitMsPerStep ?? Infinity);
    const speedUp = (ms) => (ms ? `${ms.toFixed(0)} (${(r.trainMsPerStep / ms).toFixed(2)}x)` : '-');
    const row = [r.preset, r.size, r.trainMsPerStep.toFixed(0), speedUp(r.parallelMsPerStep), speedUp(r.passSplitMsPerStep), r.imagesPerSecond.toFixed(1), r.inferMsPerImage.toFixed(0), r.peakTensorMiB.toFixed(0), r.peakRssMiB.toFixed(0)];
    const t = torch?.rows.find((x) => x.preset === r.preset && x.size === r.size);
    if (torch) row.push(t ? t.trainMsPerStep.toFixed(0) : '-', t ? `${(best / t.trainMsPerStep).toFixed(1)}x` : '-', t ? t.inferMsPerImage.toFixed(0) : '-', t ? `${(r.inferMsPerImage / t.inferMsPerImage).toFixed(1)}x` : '-');
    return row;
  });
  const torchWhere = torch?.device === 'cpu' ? `the CPU with ${cpus().length} threads` : torch?.device;
  console.log(`engine backend: ${engine.backend || 'none started'}${torch ? `; PyTorch on ${torchWhere}` : ''}`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

if (!values.only || values.only === 'predict') {
  const presets = (values.presets ?? 'tiny,small').split(',').filter((p) => p !== 'paper');
  const timed = values['predict-timed'] ?? '3';
  const images = 500;
  const size = '1024x512';
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  const loadBefore = load();
  const args = [cli, 'bench-predict', '--presets', presets.join(','), '--size', size, '--images', String(images), '--timed', timed, '--json'];
  if (values.backend) args.push('--backend', values.backend);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (run.status !== 0) {
    console.error('bench: corda bench-predict failed.');
    process.exit(1);
  }
  const result = JSON.parse(run.stdout);
  const python = values.python ?? '/usr/bin/python3';
  const torchRun = spawnSync(python, [join(root, 'scripts', 'bench_torch.py'), 'predict', presets.join(','), size, timed, String(cpus().length)], { encoding: 'utf8' });
  const torch = torchRun.status === 0 ? JSON.parse(torchRun.stdout.trim().split('\n').pop()) : null;
  if (!torch) console.log(`pytorch: not measured (${torchRun.stderr?.trim().split('\n').pop() || `${python} did not run`})`);
  console.log(`predict + difficulty, ${images} target images at ${size} (extrapolated from ${timed} timed images per row; load average before ${loadBefore}, after ${load()}); superpixels + PNG layers add ${result.layersMsPerImage.toFixed(0)} ms/img on either path`);
  const header = ['preset', 'path', 'ms/img', 'CPU ms/img', `${images} images`, ...(torch ? [`torch ${torch.torch} ms/img (CPU ms)`, 'ratio'] : [])];
  const rows = result.rows.map((r) => {
    if (r.failed) return [r.preset, r.path, `not measured: ${r.failed}`, ...header.slice(3).map(() => '-')];
    const t = torch?.rows.find((x) => x.preset === r.preset);
    const row = [r.preset, `${r.path} (${r.runtime})`, r.msPerImage.toFixed(0), r.cpuMsPerImage.toFixed(0), `${(r.extrapolatedSeconds / 60).toFixed(1)} min (extrapolated)`];
    if (torch) row.push(t ? `${t.msPerImage.toFixed(0)} (${t.cpuMsPerImage.toFixed(0)})` : '-', t ? `${(r.msPerImage / t.msPerImage).toFixed(1)}x` : '-');
    return row;
  });
  console.log(`engine backend: ${result.backend}${torch ? `; PyTorch on the CPU with ${torch.threads} threads` : ''}`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
