// `npm run quality [-- --warmup N] [--iters N] [--seeds 1,2,3] [--images N] [--methods source-only,dacs,corda]`
// The demo benchmark: generated source (GTA5 layout) and target (Cityscapes layout) with fixed seeds. As in the
// workbench's loop (round N+1 starts from round N), one source-only warm-up round (seed 1) is trained first, then
// one round per method and seed starts from it (`--from`); source-only simply trains on for the same number of
// iterations. Target val mIoU (19 classes) as mean ± spread over seeds; prints a Markdown table.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = process.env.CORDA_CLI ?? join(root, 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  console.error('quality: the CLI is not built. Run `npm run build` first.');
  process.exit(1);
}
const { values } = parseArgs({ options: { warmup: { type: 'string' }, iters: { type: 'string' }, seeds: { type: 'string' }, images: { type: 'string' }, methods: { type: 'string' }, keep: { type: 'string' } } });
const iters = values.iters ?? '300';
const warmup = values.warmup ?? '300';
const seeds = (values.seeds ?? '1,2,3').split(',');
const methods = (values.methods ?? 'source-only,dacs,corda').split(',');
const images = values.images ?? '48';

function corda(...args) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  if (result.status !== 0) {
    console.error(`quality: corda ${args.join(' ')} failed: ${result.stderr.trim().split('\n').pop()}`);
    process.exit(1);
  }
  return result.stdout;
}

const work = values.keep ?? mkdtempSync(join(tmpdir(), 'corda-quality-'));
try {
  corda('demo-data', join(work, 'demo'), '--images', images, '--size', '512x256', '--seed', '1');
  const project = join(work, 'project');
  const source = JSON.parse(corda('import', join(work, 'demo', 'gta5'), '--project', project, '--json')).datasetId;
  const target = JSON.parse(corda('import', join(work, 'demo', 'cityscapes'), '--project', project, '--json')).datasetId;
  const warm = JSON.parse(corda('adapt', '--project', project, '--source', String(source), '--target', String(target), '--method', 'source-only', '--iters', warmup, '--seed', '1', '--json'));
  console.error(`warm-up (source-only, ${warmup} iterations): val mIoU ${((warm.metrics.val?.mIoU ?? warm.metrics.mIoU) * 100).toFixed(1)}`);
  const results = {};
  for (const method of methods) {
    results[method] = [];
    for (const seed of seeds) {
      const started = performance.now();
      const out = JSON.parse(corda('adapt', '--project', project, '--source', String(source), '--target', String(target), '--method', method, '--iters', iters, '--seed', seed, '--from', String(warm.roundId), '--json'));
      const val = out.metrics.val?.mIoU ?? out.metrics.mIoU;
      results[method].push(val);
      console.error(`${method} seed ${seed}: val mIoU ${(val * 100).toFixed(1)} (${((performance.now() - started) / 1000).toFixed(0)} s, ${out.timings.msPerStep.toFixed(0)} ms/step, ${out.backend})`);
    }
  }
  const warmVal = (warm.metrics.val?.mIoU ?? warm.metrics.mIoU) * 100;
  console.log(`Demo benchmark: ${images} source + ${images} target images at 512x256 (demo-data seed 1), preset tiny, crop 256x128, batch 2, ${cpus().length} cores, backend ${warm.backend}. A source-only warm-up of ${warmup} iterations (val mIoU ${warmVal.toFixed(1)}), then ${iters} iterations per method and seed from it.`);
  console.log('');
  console.log('| method | target val mIoU (19 classes), mean ± std over seeds ' + seeds.join(', ') + ' | per seed |');
  console.log('| --- | --- | --- |');
  for (const method of methods) {
    const v = results[method].map((x) => x * 100);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
    console.log(`| ${method} | ${mean.toFixed(1)} ± ${std.toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(', ')} |`);
  }
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
