// `corda`: the workbench from a terminal. Same service as the app; bad input gets one sentence and exit 1.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DepthChoice, UserError, type DatasetRole } from '../shared/api';
import { generateDemoData } from '../core/datasets/demo/generate';
import { checkProjectOutsideDatasets } from '../core/datasets/importDataset';
import { evaluateFiles, formatMetricsTable } from '../core/eval';
import { adaptCommand, evalCommand, importModelCommand, predictCommand, type CommandHelpers } from './engineCommands';
import { benchEngineCommand, parsePresets, parseSizes } from './benchEngine';
import { benchPredict } from './benchPredict';
import { exportLabelsCommand } from './exportLabelsCommand';
import { exportModelCommand } from './exportModelCommand';
import { simulateAnnotatorCommand } from './simulateAnnotatorCommand';
import { exportSamplesCommand } from './exportSamplesCommand';
import { weightsCommand } from './weightsCommand';
import { createService } from '../core/service';
import { storeErrorSentence } from '../core/store/db';
import { defaultProjectDir, ensureDemoProject } from '../core/project/defaultProject';
import { startWebServer } from '../server/webServer';
import { WEB_TOKEN_FILE, projectWebToken } from '../server/webToken';
import { APP_VERSION } from '../core/version';
import { rendererDir } from './paths';

/** `corda serve`'s port when none is given, so a restart keeps the address (a free port when it is taken). */
const DEFAULT_WEB_PORT = 4780;

const USAGE = `corda ${APP_VERSION}: the CorDA workbench from a terminal

usage:
  corda demo-data OUT [--images N] [--size WxH] [--seed S] [--synthia]
  corda init DIR
  corda import FOLDER --project DIR [--role source|target] [--depth stereo|mono|sgm|simulator|none] [--json]
                      --depth: which depth to take where the folder holds several (default: the CorDA authors'
                      choice: Cityscapes stereo .mat, then their monocular disparity, then the official SGM)
  corda datasets --project DIR [--json]
  corda adapt --project DIR [--source ID] [--target ID] [--method corda|dacs|source-only] [--preset tiny|small|paper] [--variant gta|synthia]
              [--iters N] [--seed S] [--crop WxH] [--batch B] [--working-width W] [--backend NAME] [--from ROUND]
              [--pretrained LAYERSMODEL_DIR (small preset)] [--init CHECKPOINT.pth [--init-from model|ema_model]]
              [--no-corrections] [--eval-every N] [--json]
                      --init: start from a PyTorch checkpoint (torch.save) of the preset's network; the load
                      report (loaded, missing, unexpected, shape mismatches) goes to stderr and --json's init
                      --eval-every: score the target's val split every N iterations for the learning curve
                      (default: a tenth of the round; 0 = off)
  corda adapt --project DIR --resume ROUND [--json]
  corda import-model FILE --project DIR [--target ID] [--source ID] [--preset tiny|small|paper]
                      [--variant gta|synthia] [--from model|ema_model] [--backend NAME] [--json]
                      a PyTorch checkpoint stored as a finished round: every target image predicted, difficulty,
                      depth, region queue and metrics; correct it in the app and continue with --from ROUND
  corda eval --project DIR --round ID --json
  corda predict --project DIR --round ID --image PNG --out PNG
  corda bench-engine [--presets tiny,small,paper] [--sizes 256x128,512x256] [--steps N] [--method M] [--backend B] [--json]
  corda bench-predict [--presets tiny,small] [--size 1024x512] [--images 500] [--timed N] [--backend B] [--json]
                      predict + difficulty per target image in tfjs and in ONNX Runtime, timed on N images and
                      extrapolated to --images
  corda eval-files --gt DIR --pred DIR [--format labelIds|trainIds] [--allow-missing] [--json]
  corda export-model --project DIR --round ID --format tfjs|onnx --out DIR [--json]
  corda export-labels --project DIR --dataset ID --out DIR --which corrected|predicted|best
                      [--format labelIds|trainIds|color] [--round ID] [--json]
  corda simulate-annotator --project DIR --dataset ID [--round R] --budget FRACTION [--json]
                      walks the round's region queue (train images) as a person would and copies the ground truth
                      into each region until that share of the train split's pixels is corrected
  corda export-samples --project DIR --round ID --out DIR [--no-samples]
                      the round's configuration and the working-size images it trained and was scored on,
                      as raw arrays for a twin outside the engine (scripts/twin_round.py)
  corda weights list [--json]
                      the inits and checkpoints the reference names (DeepLab ResNet-101 MS-COCO and ImageNet inits,
                      the authors' CorDA GTA5 and SYNTHIA models, torchvision's MobileNetV2): what each is, its
                      preset, URL, size and sha256 where published, and whether it is cached
  corda weights fetch NAME [--json]
                      downloads one into the user data folder's weights/ (CORDA_HOME moves that folder;
                      CORDA_WEIGHTS_BASE_URL fetches from a mirror), resumable, size and sha256 checked; where it
                      cannot, says what to download by hand and how to pass it with --init
  corda weights inspect FILE [--preset tiny|small|paper] [--from model|ema_model] [--json]
                      a PyTorch checkpoint (torch.save, either format; read without Python): its tensors with
                      shapes and dtypes, or with --preset what loads into that network, what is missing,
                      unexpected or of another shape. --from: which network of a training checkpoint (default model)
  corda serve [--project DIR] [--port P] [--host H]   (no --project and no CORDA_PROJECT: the demo project)
              no --port: ${DEFAULT_WEB_PORT}, or a free port when that is taken; --port 0: a free port.
              The URL's token is kept in the project's ${WEB_TOKEN_FILE} file (owner-only), so a restart on the
              same port keeps the address and an open page reconnects; delete the file for a new token.
`;

class UsageError extends UserError {}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\.$/, '')}. Run \`corda --help\` for usage.`);
  }
}

function intOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${value}".`);
  return n;
}

function requireProject(project: string | undefined): string {
  if (!project) throw new UsageError('--project DIR is required: the folder of the workbench project.');
  return resolve(project);
}

function stderrProgress(label: string) {
  let last = 0;
  return (phase: string, done: number, total: number) => {
    const now = Date.now();
    if (now - last < 250 && done !== total) return;
    last = now;
    process.stderr.write(`${label} ${phase}: ${done}/${total}${process.stderr.isTTY ? '\r' : '\n'}`);
  };
}

async function demoData(args: string[]) {
  const { values, positionals } = parse(args, {
    images: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, synthia: { type: 'boolean' },
  });
  const out = positionals[0];
  if (!out) throw new UsageError('demo-data needs an output folder: corda demo-data OUT.');
  const size = (values.size ?? '512x256').match(/^(\d+)x(\d+)$/);
  if (!size || Number(size[1]) < 32 || Number(size[2]) < 32) throw new UsageError(`--size must look like 512x256 (each side at least 32), got "${values.size}".`);
  const started = performance.now();
  const result = await generateDemoData(resolve(out), {
    images: intOption(values.images, 'images', 24, 1),
    width: Number(size[1]),
    height: Number(size[2]),
    seed: intOption(values.seed, 'seed', 1),
    synthia: values.synthia ?? false,
    onProgress: (done, total) => stderrProgress('demo-data')('generating', done, total),
  });
  console.log(JSON.stringify({ ...result, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) }));
}

async function init(args: string[]) {
  const { positionals } = parse(args, {});
  if (!positionals[0]) throw new UsageError('init needs a folder: corda init DIR.');
  const service = createService({ projectDir: positionals[0], transport: 'cli', create: true });
  console.log(`Project ready in ${service.projectDir}.`);
  service.close();
}

async function importCommand(args: string[]) {
  const { values, positionals } = parse(args, { project: { type: 'string' }, role: { type: 'string' }, depth: { type: 'string' }, json: { type: 'boolean' } });
  if (!positionals[0]) throw new UsageError('import needs a dataset folder: corda import FOLDER --project DIR.');
  if (values.role !== undefined && values.role !== 'source' && values.role !== 'target') {
    throw new UsageError(`--role must be source or target, got "${values.role}".`);
  }
  if (values.depth !== undefined && !DepthChoice.safeParse(values.depth).success) {
    throw new UsageError(`--depth must be one of ${DepthChoice.options.join(', ')}, got "${values.depth}".`);
  }
  const projectDir = requireProject(values.project);
  // Before the project is opened or created: a project inside the dataset would write into it.
  checkProjectOutsideDatasets(projectDir, positionals[0]);
  const service = createService({ projectDir, transport: 'cli', create: true });
  const progress = stderrProgress('import');
  const off = service.onEvent((m) => m.event === 'jobProgress' && progress(m.payload.phase, m.payload.done, m.payload.total));
  try {
    const started = performance.now();
    const result = await service.call('importDataset', {
      folder: positionals[0],
      role: values.role as DatasetRole | undefined,
      depth: values.depth as DepthChoice | undefined,
    });
    const seconds = (performance.now() - started) / 1000;
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      const { train, val, test } = result.counts;
      console.log(
        `Imported ${result.kind} as ${result.role} (dataset ${result.datasetId}) in ${seconds.toFixed(2)} s: ` +
          `${train} train, ${val} val, ${test} test; ${result.withLabels} with labels, ${result.withDepth} with depth` +
          `${result.depthSource ? ` (${result.depthSource})` : ''}.`,
      );
      for (const p of result.problems) console.log(`  problem: ${p.file}: ${p.error}`);
    }
  } finally {
    off();
    service.close();
  }
}

async function datasets(args: string[]) {
  const { values } = parse(args, { project: { type: 'string' }, json: { type: 'boolean' } });
  const service = createService({ projectDir: requireProject(values.project), transport: 'cli' });
  try {
    const list = await service.call('listDatasets', {});
    if (values.json) return console.log(JSON.stringify(list));
    for (const d of list) {
      console.log(`${d.id}\t${d.kind}\t${d.role}\t${d.counts.train}/${d.counts.val}/${d.counts.test}\t${d.root}`);
    }
  } finally {
    service.close();
  }
}

async function serve(args: string[]) {
  const { values } = parse(args, { project: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } });
  const host = values.host ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && !process.env.CORDA_ALLOW_REMOTE) {
    throw new UsageError(`Refusing to listen on ${host}: web mode serves your files, so it stays on this machine (127.0.0.1).`);
  }
  const chosen = values.project ?? process.env.CORDA_PROJECT;
  const projectDir = chosen ? resolve(chosen) : defaultProjectDir();
  if (!chosen) await ensureDemoProject(projectDir, (line) => console.log(line));
  const service = createService({ projectDir, transport: 'web' });
  let token: string;
  try {
    token = projectWebToken(service.projectDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error;
    // A read-only project still opens (read-only); its token just cannot be kept for the next start.
    token = randomBytes(24).toString('hex');
    console.log('This project folder is read-only, so the token in the URL is not kept: after a restart, open the new URL.');
  }
  const server = await startWebServer({
    service,
    rendererDir: rendererDir(),
    port: intOption(values.port, 'port', DEFAULT_WEB_PORT),
    portFallback: values.port === undefined,
    host,
    token,
  });
  console.log(`CorDA workbench (web mode) for project ${service.projectDir}`);
  if (values.port === undefined && server.port !== DEFAULT_WEB_PORT) {
    console.log(`Port ${DEFAULT_WEB_PORT} is in use, so this server listens on ${server.port}; pass --port to choose one.`);
  }
  console.log(`Open ${server.url}`);
  const stop = () => {
    void server.close().then(() => {
      service.close();
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function benchPredictCommand(args: string[]) {
  const { values } = parse(args, { presets: { type: 'string' }, size: { type: 'string' }, images: { type: 'string' }, timed: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' } });
  const [[width, height]] = parseSizes(values.size ?? '1024x512') as [[number, number]];
  const result = await benchPredict({
    presets: parsePresets(values.presets ?? 'tiny,small'),
    width,
    height,
    images: intOption(values.images, 'images', 500, 1),
    timed: intOption(values.timed, 'timed', 3, 1),
    backend: values.backend,
    log: (line) => (values.json ? process.stderr : process.stdout).write(`${line}\n`),
  });
  if (values.json) console.log(JSON.stringify(result));
}

async function evalFiles(args: string[]) {
  const { values } = parse(args, {
    gt: { type: 'string' }, pred: { type: 'string' }, format: { type: 'string' }, 'allow-missing': { type: 'boolean' }, json: { type: 'boolean' },
  });
  if (!values.gt || !values.pred) throw new UsageError('eval-files needs --gt DIR (a gtFine tree) and --pred DIR (result PNGs).');
  const format = values.format ?? 'labelIds';
  if (format !== 'labelIds' && format !== 'trainIds') throw new UsageError(`--format must be labelIds or trainIds, got "${format}".`);
  const progress = stderrProgress('eval-files');
  const result = await evaluateFiles({
    gtDir: resolve(values.gt),
    predDir: resolve(values.pred),
    format,
    allowMissing: values['allow-missing'] ?? false,
    onProgress: (done, total) => progress('evaluating', done, total),
  });
  if (values.json) return console.log(JSON.stringify(result.metrics));
  console.log(`${result.images} images evaluated${result.missing.length ? `, ${result.missing.length} without prediction` : ''}`);
  console.log(formatMetricsTable(result.metrics));
}

const helpers: CommandHelpers = {
  parse: (args, options) => parse(args, options) as ReturnType<CommandHelpers['parse']>,
  usage: (message) => new UsageError(message),
  requireProject,
};

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  adapt: (args) => adaptCommand(args, helpers),
  eval: (args) => evalCommand(args, helpers),
  predict: (args) => predictCommand(args, helpers),
  'demo-data': demoData,
  init,
  import: importCommand,
  datasets,
  'eval-files': evalFiles,
  'export-model': (args) => exportModelCommand(args, helpers),
  'export-labels': (args) => exportLabelsCommand(args, helpers),
  'simulate-annotator': (args) => simulateAnnotatorCommand(args, helpers),
  'export-samples': (args) => exportSamplesCommand(args, helpers),
  'bench-engine': (args) => benchEngineCommand(args, helpers),
  'bench-predict': benchPredictCommand,
  weights: (args) => weightsCommand(args, helpers),
  'import-model': (args) => importModelCommand(args, helpers),
  serve,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    console.log(APP_VERSION);
    return 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`Unknown command "${command}". Run \`corda --help\` for the list.`);
    await run(rest);
    return 0;
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`corda: ${error.message}`);
      return error instanceof UsageError ? 2 : 1;
    }
    const at = rest.indexOf('--project');
    const projectDir = resolve((at >= 0 && rest[at + 1]) || process.env.CORDA_PROJECT || '.');
    const store = storeErrorSentence(error, projectDir, `run \`corda ${command}\``);
    if (store) {
      console.error(`corda: ${store.message}`);
      if (process.env.CORDA_DEBUG) console.error(error);
      return 1;
    }
    console.error(`corda: internal error: ${(error as Error).message}. Set CORDA_DEBUG=1 for details and report it.`);
    if (process.env.CORDA_DEBUG) console.error(error);
    return 1;
  }
}
