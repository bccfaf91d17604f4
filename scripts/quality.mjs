// `npm run quality [-- --warmup N] [--iters N] [--recipe JSON] [--seeds 1,2,3] [--images N] [--methods source-only,dacs,corda] [--budgets 0.022,0.05] [--curves PATH] [--torch]`
// The demo benchmark: generated source (GTA5 layout) and target (Cityscapes layout) with fixed seeds. As in the
// workbench's loop (round N+1 starts from round N), one source-only warm-up round (seed 1) is trained first, then
// one round per method and seed starts from it (`--from`); source-only simply trains on for the same number of
// iterations. Target val mIoU (19 classes) as mean ± spread over seeds; prints a Markdown table.
// `--budgets`: the person in the loop, simulated as RIPU does. For each budget a copy of the project as it stood
// after the warm-up gets `corda simulate-annotator` on the warm-up round's region queue (ground truth copied into
// the hardest regions of target train images until that share of the train pixels is corrected), then one corda
// round per seed from the warm-up, which trains on those corrections. A second table compares them with the plain
// corda rounds (budget 0: same warm-up, same seeds, no corrections).
// `--curves` (default docs/quality-curves.svg): the learning curves, target val mIoU against iterations as the
// rounds scored it while training (`curve` in `corda adapt --json`), one line per method, mean over seeds,
// starting at iteration 0 from the warm-up's val mIoU.
// `--torch`: each method's rounds retrained by the PyTorch twin (./qualityTorch.mjs), a "PyTorch twin" column and
// curves beside the engine's.
// `target-supervised` (a method name, in the default list): the ceiling. A source-only round from the same warm-up
// whose source is the target's own train split with its ground truth (copied out of the generated demo, val and
// test left behind), so it shows what this network reaches on the target in the same iterations when nothing has to
// be adapted. Every method's gain is also given as its share of that gap (target-supervised minus source-only).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { curvesSvg, meanCurve } from './curvesSvg.mjs';
import { torchMissing, torchTwinRound } from './qualityTorch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = process.env.CORDA_CLI ?? join(root, 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  console.error('quality: the CLI is not built. Run `npm run build` first.');
  process.exit(1);
}
const { values } = parseArgs({ options: { warmup: { type: 'string' }, iters: { type: 'string' }, seeds: { type: 'string' }, images: { type: 'string' }, methods: { type: 'string' }, keep: { type: 'string' }, budgets: { type: 'string' }, curves: { type: 'string' }, torch: { type: 'boolean' }, recipe: { type: 'string' } } });
const iters = values.iters ?? '600';
const warmup = values.warmup ?? '300';
const seeds = (values.seeds ?? '1,2,3').split(',');
const methods = (values.methods ?? 'source-only,dacs,corda,target-supervised').split(',');
const KNOWN_METHODS = ['source-only', 'dacs', 'corda', 'target-supervised'];
if (methods.some((m) => !KNOWN_METHODS.includes(m))) {
  console.error(`quality: --methods takes ${KNOWN_METHODS.join(', ')}, got "${values.methods}".`);
  process.exit(1);
}
const images = values.images ?? '48';
const budgets = values.budgets ? values.budgets.split(',').map(Number) : [];
const curvesPath = resolve(values.curves ?? join(root, 'docs', 'quality-curves.svg'));
if (budgets.some((b) => !(b > 0 && b <= 1))) {
  console.error(`quality: --budgets takes shares between 0 and 1 (0.022 for 2.2 %), got "${values.budgets}".`);
  process.exit(1);
}
if (values.torch && torchMissing()) {
  console.error(`quality: ${torchMissing()}`);
  process.exit(1);
}
const twin = values.torch ? { results: {}, curves: {} } : null;
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / Math.max(1, v.length - 1));
const pct = (share) => `${(share * 100).toFixed(2)} %`;

function corda(...args) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  if (result.status !== 0) {
    console.error(`quality: corda ${args.join(' ')} failed: ${result.stderr.trim().split('\n').pop()}`);
    process.exit(1);
  }
  return result.stdout;
}

/** (method − source-only) / (target-supervised − source-only), per seed, as percentages: how much of what there was to gain a method gained. */
function gapClosed(method, sourceOnly, ceiling) {
  const shares = method.map((x, i) => (x - sourceOnly[i]) / (ceiling[i] - sourceOnly[i]));
  return `${(mean(shares) * 100).toFixed(0)} % (${shares.map((x) => `${(x * 100).toFixed(0)} %`).join(', ')})`;
}

/** The target's train split with its ground truth, copied out of the generated demo and imported as a source. */
function importTargetTrainAsSource(work, project) {
  const from = join(work, 'demo', 'cityscapes');
  const copy = join(work, 'target-train');
  cpSync(from, copy, { recursive: true, filter: (path) => !/[\\/](val|test)([\\/]|$)/.test(path.slice(from.length)) });
  return JSON.parse(corda('import', copy, '--project', project, '--role', 'source', '--json')).datasetId;
}

const work = values.keep ?? mkdtempSync(join(tmpdir(), 'corda-quality-'));
try {
  corda('demo-data', join(work, 'demo'), '--images', images, '--size', '512x256', '--seed', '1');
  const project = join(work, 'project');
  const source = JSON.parse(corda('import', join(work, 'demo', 'gta5'), '--project', project, '--json')).datasetId;
  const target = JSON.parse(corda('import', join(work, 'demo', 'cityscapes'), '--project', project, '--json')).datasetId;
  const targetSupervised = methods.includes('target-supervised') ? importTargetTrainAsSource(work, project) : null;
  const warm = JSON.parse(corda('adapt', '--project', project, '--source', String(source), '--target', String(target), '--method', 'source-only', '--iters', warmup, '--seed', '1', '--json'));
  console.error(`warm-up (source-only, ${warmup} iterations): val mIoU ${((warm.metrics.val?.mIoU ?? warm.metrics.mIoU) * 100).toFixed(1)}`);
  // Copies of the project as it stands after the warm-up, one per budget, before any other round is added.
  const budgetProjects = budgets.map((budget) => {
    const copy = join(work, `project-budget-${budget}`);
    cpSync(project, copy, { recursive: true });
    return copy;
  });
  const results = {};
  const curves = {};
  const adaptRound = (dir, method, seed) => {
    const started = performance.now();
    const recipe = values.recipe ? ['--recipe', values.recipe] : [];
    const [roundSource, roundMethod] = method === 'target-supervised' ? [targetSupervised, 'source-only'] : [source, method];
    const out = JSON.parse(corda('adapt', '--project', dir, '--source', String(roundSource), '--target', String(target), '--method', roundMethod, '--iters', iters, '--seed', seed, '--from', String(warm.roundId), ...recipe, '--json'));
    const val = out.metrics.val?.mIoU ?? out.metrics.mIoU;
    return { roundId: out.roundId, val, seconds: (performance.now() - started) / 1000, msPerStep: out.timings.msPerStep, backend: out.backend, curve: out.curve ?? [] };
  };
  const budgetMethods = budgets.length > 0 && !methods.includes('corda') ? [...methods, 'corda'] : methods;
  for (const method of budgetMethods) {
    results[method] = [];
    curves[method] = [];
    for (const seed of seeds) {
      const out = adaptRound(project, method, seed);
      results[method].push(out.val);
      curves[method].push(out.curve);
      console.error(`${method} seed ${seed}: val mIoU ${(out.val * 100).toFixed(1)} (${out.seconds.toFixed(0)} s, ${out.msPerStep.toFixed(0)} ms/step, ${out.backend})`);
      if (twin && methods.includes(method) && method !== 'target-supervised') {
        const t = torchTwinRound({ corda, project, roundId: out.roundId, work });
        (twin.results[method] ??= []).push(t.val);
        (twin.curves[method] ??= []).push(t.curve);
        console.error(`${method} seed ${seed}, PyTorch twin: val mIoU ${(t.val * 100).toFixed(1)} (${t.seconds.toFixed(0)} s, ${t.msPerStep.toFixed(0)} ms/step)`);
      }
    }
  }
  const simulated = budgets.map((budget, k) => {
    const dir = budgetProjects[k];
    const sim = JSON.parse(corda('simulate-annotator', '--project', dir, '--dataset', String(target), '--round', String(warm.roundId), '--budget', String(budget), '--json'));
    console.error(`budget ${pct(budget)}: ${sim.regions} regions (${sim.skipped} on val/test skipped), ${sim.pixels} pixels, ${pct(sim.share)} of train pixels, ${pct(sim.meter.share)} on the meter${sim.stopped === 'queue' ? ', the queue ran out first' : ''}`);
    const vals = seeds.map((seed) => {
      const out = adaptRound(dir, 'corda', seed);
      console.error(`corda + ${pct(budget)} corrections seed ${seed}: val mIoU ${(out.val * 100).toFixed(1)} (${out.seconds.toFixed(0)} s, ${out.msPerStep.toFixed(0)} ms/step)`);
      return out.val;
    });
    return { budget, sim, vals };
  });
  const warmVal = (warm.metrics.val?.mIoU ?? warm.metrics.mIoU) * 100;
  // Every round starts from the warm-up's weights: its val mIoU is each curve's point at iteration 0.
  const start = warm.metrics.val ? [{ iteration: 0, valMIoU: warm.metrics.val.mIoU }] : [];
  const series = methods.map((method) => ({ label: method, points: meanCurve(curves[method].map((curve) => [...start, ...curve])) }));
  if (twin) series.push(...methods.filter((method) => twin.results[method]).map((method) => ({ label: `${method} (PyTorch twin)`, group: method, dashed: true, points: meanCurve(twin.curves[method].map((curve) => [...start, ...curve])) })));
  const seedWord = seeds.length === 1 ? `seed ${seeds[0]}` : `mean over seeds ${seeds.join(', ')}`;
  mkdirSync(dirname(curvesPath), { recursive: true });
  writeFileSync(curvesPath, curvesSvg(series, { title: `Target val mIoU while training (${seedWord})` }));
  console.error(`learning curves: ${curvesPath}`);
  console.log(`Demo benchmark: ${images} source + ${images} target images at 512x256 (demo-data seed 1), preset tiny, crop 256x128, batch 2, ${cpus().length} cores, backend ${warm.backend}. A source-only warm-up of ${warmup} iterations (val mIoU ${warmVal.toFixed(1)}), then ${iters} iterations per method and seed from it.`);
  console.log('');
  const gapColumn = methods.includes('source-only') && methods.includes('target-supervised');
  console.log('| method | target val mIoU (19 classes), mean ± std over seeds ' + seeds.join(', ') + ' | per seed |' + (gapColumn ? ' gap closed, paired |' : '') + (twin ? ' PyTorch twin (per seed) |' : ''));
  console.log('| --- | --- | --- |' + (gapColumn ? ' --- |' : '') + (twin ? ' --- |' : ''));
  const summary = (v) => `${mean(v).toFixed(1)} ± ${std(v).toFixed(1)}`;
  for (const method of methods) {
    const v = results[method].map((x) => x * 100);
    const t = twin?.results[method]?.map((x) => x * 100);
    const gap = gapColumn ? ` ${gapClosed(results[method], results['source-only'], results['target-supervised'])} |` : '';
    console.log(`| ${method} | ${summary(v)} | ${v.map((x) => x.toFixed(1)).join(', ')} |` + gap + (twin ? (t ? ` ${summary(t)} (${t.map((x) => x.toFixed(1)).join(', ')}) |` : ' |') : ''));
  }
  if (simulated.length > 0) {
    const plain = results.corda.map((x) => x * 100);
    console.log('');
    console.log(`Simulated annotator (\`corda simulate-annotator\`, ground truth copied into the warm-up round's queued regions of target train images), then a corda round from the warm-up per seed. Budget: share of the target train pixels; the meter column is the editor's meter, the same share of the target train pixels.`);
    console.log('');
    console.log('| budget | train pixels corrected | meter | regions | target val mIoU, mean ± std over seeds ' + seeds.join(', ') + ' | per seed | change against budget 0, per seed |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    console.log(`| 0 (plain corda) | 0 | 0 % | 0 | ${mean(plain).toFixed(1)} ± ${std(plain).toFixed(1)} | ${plain.map((x) => x.toFixed(1)).join(', ')} | |`);
    for (const { budget, sim, vals } of simulated) {
      const v = vals.map((x) => x * 100);
      const change = v.map((x, i) => x - plain[i]);
      const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
      console.log(
        `| ${pct(budget)} | ${sim.pixels} (${pct(sim.share)})${sim.stopped === 'queue' ? ', queue ran out' : ''} | ${pct(sim.meter.share)} | ${sim.regions} | ` +
          `${mean(v).toFixed(1)} ± ${std(v).toFixed(1)} | ${v.map((x) => x.toFixed(1)).join(', ')} | ${change.map(signed).join(', ')} (mean ${signed(mean(change))}) |`,
      );
    }
  }
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
