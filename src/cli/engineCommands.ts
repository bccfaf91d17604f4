// `corda adapt`, `corda eval`, `corda predict`, `corda import-model`: the engine from a terminal.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { encode } from 'fast-png';
import sharp from 'sharp';
import {
  BACKEND_NAMES, METHODS, PAPER_VARIANTS, PRESET_NAMES, ROUND_DEFAULTS, UserError,
  type BackendName, type Method, type PaperVariant, type PresetName, type RoundFinishedEvent, type StartRoundInput,
} from '../shared/api';
import { defaultConfig, type RoundConfig } from '../core/adapt/config';
import { workingSize } from '../core/adapt/data';
import { predictSample } from '../core/adapt/predict';
import { finalCheckpoint } from '../core/adapt/roundCheckpoints';
import { initBackend, isBackendName, type BackendInfo } from '../core/model/backend';
import { readCheckpoint } from '../core/model/checkpoint';
import { networkFor } from '../core/adapt/networkFor';
import { createService } from '../core/service';
import { waitForJob } from './waitForJob';
import { importModelRound } from '../core/adapt/importModel';
import { isReadOnlyDb, openProjectDb, storeErrorSentence, type Db } from '../core/store/db';
import { listDatasets } from '../core/store/datasetsRepo';
import { getRound } from '../core/store/roundsRepo';
import { resizeNearest } from '../core/raster/resize';

/** The project's database for a command that writes; a read-only project gets one sentence naming the action. */
function openWritableProject(projectDir: string, action: string): Db {
  const db = openProjectDb(projectDir);
  if (isReadOnlyDb(db)) {
    db.close();
    throw storeErrorSentence({ code: 'SQLITE_READONLY' }, projectDir, action)!;
  }
  return db;
}
export interface CommandHelpers {
  parse: (args: string[], options: Record<string, { type: 'string' | 'boolean' }>) => { values: Record<string, string | boolean | undefined>; positionals: string[] };
  usage: (message: string) => Error;
  requireProject: (value: string | undefined) => string;
}


async function backend(value: string | undefined, quiet: boolean): Promise<BackendInfo> {
  if (value !== undefined && !isBackendName(value)) throw new UserError(`Unknown backend "${value}": choose one of ${BACKEND_NAMES.join(', ')}.`);
  const info = await initBackend(value, quiet ? undefined : (line) => process.stderr.write(`${line}\n`));
  return info;
}

function roundId(value: string | boolean | undefined, flag: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw new UserError(`${flag} needs a round id (a positive whole number), got "${String(value ?? '')}".`);
  return n;
}

/** What a progress line shows: a round's progress, as the worker reports it or as its event carries it. */
interface ProgressView {
  phase: 'training' | 'predicting';
  iteration: number;
  iters: number;
  losses?: Readonly<Record<'total' | 'sourceCe' | 'sourceDepth' | 'mixedCe' | 'mixedDepth' | 'correctedCe' | 'confidentShare', number>> | null;
  imagesPerSecond?: number | null;
  etaSeconds?: number | null;
  done?: number | null;
  total?: number | null;
}

function printProgress(p: ProgressView): void {
  if (p.phase === 'predicting') {
    process.stderr.write(`predicting ${p.done}/${p.total}\n`);
    return;
  }
  const l = p.losses!;
  const eta = p.etaSeconds != null ? `${Math.round(p.etaSeconds)} s left` : '';
  const line = `iter ${p.iteration}/${p.iters}  loss ${l.total.toFixed(3)} (src ce ${l.sourceCe.toFixed(3)}, src depth ${l.sourceDepth.toFixed(3)}, mix ce ${l.mixedCe.toFixed(3)}, mix depth ${l.mixedDepth.toFixed(3)}${l.correctedCe > 0 ? `, corrected ce ${l.correctedCe.toFixed(3)}` : ''}, q ${l.confidentShare.toFixed(2)})  ${p.imagesPerSecond?.toFixed(1)} img/s  ${eta}`;
  process.stderr.write(`${line}\n`);
}

/** `--recipe '{"emaDecay":0.99}'`: any of a round's numeric, boolean or string settings, for experiments (core checks the names). */
function recipeFlag(text: string): Record<string, number | boolean | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`--recipe must be a JSON object such as '{"emaDecay":0.99}', got "${text}".`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UserError(`--recipe must be a JSON object, got "${text}".`);
  for (const [key, value] of Object.entries(parsed)) {
    if (!['number', 'boolean', 'string'].includes(typeof value)) throw new UserError(`--recipe's ${key} must be a number, true or false, or text, got ${JSON.stringify(value)}.`);
  }
  return parsed as Record<string, number | boolean | string>;
}

/** `corda adapt`: a new round (or `--resume`) started through the service, as the Rounds form starts one. */
export async function adaptCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, {
    project: { type: 'string' }, source: { type: 'string' }, target: { type: 'string' }, method: { type: 'string' },
    preset: { type: 'string' }, iters: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' },
    crop: { type: 'string' }, batch: { type: 'string' }, 'checkpoint-every': { type: 'string' }, from: { type: 'string' },
    resume: { type: 'string' }, pretrained: { type: 'string' }, 'no-corrections': { type: 'boolean' }, json: { type: 'boolean' },
    'working-width': { type: 'string' }, recipe: { type: 'string' }, 'eval-every': { type: 'string' }, variant: { type: 'string' },
    init: { type: 'string' }, 'init-from': { type: 'string' },
  });
  if (values['init-from'] !== undefined && values.init === undefined) throw h.usage('--init-from needs --init FILE (the checkpoint to take that network from).');
  if (values['init-from'] !== undefined && !['model', 'ema_model'].includes(String(values['init-from']))) {
    throw h.usage(`--init-from must be model or ema_model, got "${String(values['init-from'])}".`);
  }
  if (values.init !== undefined && values.resume !== undefined) throw h.usage('--init starts a new round; a resumed round continues from its own checkpoint (drop --init).');
  const projectDir = h.requireProject(values.project as string | undefined);
  const json = Boolean(values.json);
  const backendName = values.backend as string | undefined;
  if (backendName !== undefined && !isBackendName(backendName)) throw new UserError(`Unknown backend "${backendName}": choose one of ${BACKEND_NAMES.join(', ')}.`);
  const service = createService({ projectDir, transport: 'cli' });
  try {
    let request: StartRoundInput | null = null;
    const resumeId = values.resume !== undefined ? roundId(values.resume, '--resume') : null;
    if (resumeId === null) {
      const method = (values.method ?? ROUND_DEFAULTS.method) as Method;
      if (!METHODS.includes(method)) throw h.usage(`--method must be one of ${METHODS.join(', ')}, got "${method}".`);
      const preset = (values.preset ?? ROUND_DEFAULTS.preset) as PresetName;
      if (!PRESET_NAMES.includes(preset)) throw h.usage(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${preset}".`);
      const int = (v: unknown, flag: string, min: number) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} must be a whole number of at least ${min}, got "${String(v)}".`);
        return n;
      };
      if (values.variant !== undefined) {
        if (preset !== 'paper') throw h.usage(`--variant applies to the paper preset only (the reference network's GTA or SYNTHIA form).`);
        if (!(PAPER_VARIANTS as readonly string[]).includes(String(values.variant))) throw h.usage(`--variant must be one of ${PAPER_VARIANTS.join(', ')}, got "${String(values.variant)}".`);
      }
      let crop: { width: number; height: number } | undefined;
      if (values.crop !== undefined) {
        const m = String(values.crop).match(/^(\d+)x(\d+)$/);
        if (!m) throw h.usage(`--crop must look like 256x128, got "${String(values.crop)}".`);
        crop = { width: Number(m[1]), height: Number(m[2]) };
      }
      const parentRoundId = values.from !== undefined ? roundId(values.from, '--from') : undefined;
      if (values.init !== undefined && parentRoundId !== undefined) throw new UserError(`A round starts from one set of weights: pass either --from ${parentRoundId} or --init, not both.`);
      const fields = {
        iters: values.iters !== undefined ? int(values.iters, '--iters', 1) : undefined,
        seed: values.seed !== undefined ? int(values.seed, '--seed', 0) : undefined,
        batchSize: values.batch !== undefined ? int(values.batch, '--batch', 1) : undefined,
        checkpointEvery: values['checkpoint-every'] !== undefined ? int(values['checkpoint-every'], '--checkpoint-every', 1) : undefined,
        evalEvery: values['eval-every'] !== undefined ? int(values['eval-every'], '--eval-every', 0) : undefined,
        workingWidth: values['working-width'] !== undefined ? int(values['working-width'], '--working-width', 16) : undefined,
        pretrained: values.pretrained !== undefined ? resolve(String(values.pretrained)) : undefined,
        init: values.init !== undefined ? { file: resolve(String(values.init)), from: (values['init-from'] ?? 'model') as 'model' | 'ema_model' } : undefined,
        useCorrections: values['no-corrections'] ? false : undefined,
        variant: values.variant as PaperVariant | undefined,
        recipe: values.recipe !== undefined ? recipeFlag(String(values.recipe)) : undefined,
        crop,
        parentRoundId,
        backend: backendName as BackendName | undefined,
      };
      const datasets = await service.call('listDatasets', {});
      const pick = (flag: string, value: unknown, role: 'source' | 'target') => {
        if (value !== undefined) return int(value, flag, 1);
        const candidates = datasets.filter((d) => d.role === role);
        if (candidates.length !== 1) throw new UserError(`${flag} is needed: the project has ${candidates.length} ${role} datasets (see \`corda datasets\`).`);
        return candidates[0]!.id;
      };
      request = {
        sourceDatasetId: pick('--source', values.source, 'source'),
        targetDatasetId: pick('--target', values.target, 'target'),
        method,
        preset,
        ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      };
    }
    let result: RoundFinishedEvent | null = null;
    await waitForJob(
      service,
      () => (request ? service.call('startRound', request) : service.call('resumeRound', { roundId: resumeId!, ...(backendName !== undefined && { backend: backendName as BackendName }) })),
      undefined,
      {
        cancelled: 'Cancelled; resume with `corda adapt --resume`.',
        onEvent: (m) => {
          if (m.event === 'roundProgress') printProgress(m.payload as ProgressView);
          else if (m.event === 'roundLog' && !(json && m.payload.source === 'backend')) process.stderr.write(`${m.payload.line}\n`);
          else if (m.event === 'roundFinished') result = m.payload;
        },
      },
    );
    const done = result as RoundFinishedEvent | null;
    if (!done) throw new UserError('The round ended without reporting its result; see `corda eval` for its metrics.');
    const { mIoU, mIoU16, mIoU13, perClass, val } = done.metrics;
    const summary = { roundId: done.roundId, backend: done.backend, timings: done.timings, metrics: { mIoU, mIoU16, mIoU13, perClass, val }, curve: done.curve, ...(done.init && { init: done.init }) };
    if (json) console.log(JSON.stringify(summary));
    else console.log(`Round ${done.roundId} done on ${done.backend}: mIoU ${mIoU === null ? 'n/a' : (mIoU * 100).toFixed(1)} (${done.metrics.evaluatedImages} images with ground truth), ${done.timings.msPerStep.toFixed(0)} ms/step.`);
  } finally {
    service.close();
  }
}

export async function evalCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, { project: { type: 'string' }, round: { type: 'string' }, json: { type: 'boolean' } });
  const db = openProjectDb(h.requireProject(values.project as string | undefined));
  try {
    const id = roundId(values.round, '--round');
    const round = getRound(db, id);
    if (!round) throw new UserError(`There is no round ${id} in this project.`);
    if (round.status !== 'done' || !round.metrics) throw new UserError(`Round ${id} has not been evaluated yet (status: ${round.status}).`);
    const { mIoU, mIoU16, mIoU13, perClass, val } = round.metrics as Record<string, unknown>;
    console.log(JSON.stringify({ mIoU, mIoU16, mIoU13, perClass, val }));
  } finally {
    db.close();
  }
}

export async function predictCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values } = h.parse(args, {
    project: { type: 'string' }, round: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' },
  });
  if (!values.image || !values.out) throw h.usage('predict needs --image PNG and --out PNG.');
  const db = openProjectDb(h.requireProject(values.project as string | undefined));
  try {
    const id = roundId(values.round, '--round');
    const round = getRound(db, id);
    if (!round) throw new UserError(`There is no round ${id} in this project.`);
    const checkpoint = finalCheckpoint(db, id);
    await backend(values.backend as string | undefined, true);
    const config = defaultConfig(round.method as Method, round.preset as PresetName, round.config as Partial<RoundConfig>);
    const input = resolve(String(values.image));
    let meta;
    try {
      meta = await sharp(readFileSync(input)).metadata();
    } catch {
      throw new UserError(`${input} is not an image the workbench can read (PNG or JPEG expected).`);
    }
    const size = workingSize({ width: meta.width!, height: meta.height! }, config.targetWidth);
    const rgb = await sharp(input).removeAlpha().resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer();
    const net = networkFor(config);
    net.params.assignFrom(readCheckpoint(checkpoint.path).tensors, 'student/');
    const prediction = await predictSample(net, { ...size, rgb: new Uint8Array(rgb), labels: null, depth: null });
    net.dispose();
    const labels = resizeNearest(prediction.labels, size.width, size.height, meta.width!, meta.height!);
    const out = resolve(String(values.out));
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, encode({ width: meta.width!, height: meta.height!, channels: 1, depth: 8, data: labels }));
    renameSync(tmp, out);
    console.log(`Wrote ${out} (trainIds, ${meta.width}x${meta.height}).`);
  } finally {
    db.close();
  }
}

/** `corda import-model FILE`: a PyTorch checkpoint stored as a finished round, ready for corrections and `--from`. */
export async function importModelCommand(args: string[], h: CommandHelpers): Promise<void> {
  const { values, positionals } = h.parse(args, {
    project: { type: 'string' }, target: { type: 'string' }, source: { type: 'string' }, preset: { type: 'string' },
    from: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' }, variant: { type: 'string' },
  });
  if (!positionals[0]) throw h.usage('import-model needs a checkpoint file: corda import-model FILE --project DIR --target ID.');
  if (positionals.length > 1) throw h.usage(`import-model takes one file, got ${positionals.length}.`);
  const preset = (values.preset ?? 'tiny') as PresetName;
  if (!PRESET_NAMES.includes(preset)) throw h.usage(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${preset}".`);
  const from = (values.from ?? 'model') as 'model' | 'ema_model';
  if (from !== 'model' && from !== 'ema_model') throw h.usage(`--from must be model or ema_model, got "${String(values.from)}".`);
  if (values.variant !== undefined) {
    if (preset !== 'paper') throw h.usage('--variant applies to the paper preset only (the reference network\'s GTA or SYNTHIA form).');
    if (!(PAPER_VARIANTS as readonly string[]).includes(String(values.variant))) throw h.usage(`--variant must be one of ${PAPER_VARIANTS.join(', ')}, got "${String(values.variant)}".`);
  }
  const projectDir = h.requireProject(values.project as string | undefined);
  const json = Boolean(values.json);
  const db = openWritableProject(projectDir, 'import a model into it');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new UserError('Cancelled; nothing of the import is kept but a cancelled round.'));
  process.once('SIGINT', onSignal);
  try {
    const datasets = listDatasets(db);
    const pick = (flag: string, value: unknown, role: 'source' | 'target', hint: string) => {
      if (value !== undefined) return roundId(value as string, flag);
      const candidates = datasets.filter((d) => d.role === role);
      if (candidates.length !== 1) throw new UserError(`${flag} is needed: the project has ${candidates.length} ${role} datasets (${hint}).`);
      return candidates[0]!.id;
    };
    const targetDatasetId = pick('--target', values.target, 'target', 'see `corda datasets`');
    const sourceDatasetId = pick('--source', values.source, 'source', 'the next round trains on one: `corda import FOLDER --project DIR --role source`');
    const info = await backend(values.backend as string | undefined, json);
    const result = await importModelRound(
      { db, projectDir, backend: info, signal: controller.signal, onProgress: printProgress, log: (line) => process.stderr.write(`${line}\n`) },
      { file: resolve(positionals[0]), from, preset, targetDatasetId, sourceDatasetId, ...(values.variant !== undefined && { variant: values.variant as PaperVariant }) },
    );
    const { mIoU, mIoU16, mIoU13, perClass, val, evaluatedImages } = result.metrics;
    if (json) {
      console.log(JSON.stringify({
        roundId: result.roundId, loaded: result.init.loaded, missing: result.init.missing, unexpected: result.init.unexpected,
        sha256: result.init.sha256, metrics: { mIoU, mIoU16, mIoU13, perClass, val },
      }));
    } else {
      console.log(`Round ${result.roundId} holds ${result.init.name} (${result.init.loaded} weights, ${result.init.missing.length} missing): mIoU ${mIoU === null ? 'n/a' : (mIoU * 100).toFixed(1)} (${evaluatedImages} images with ground truth). Correct it in the app, then \`corda adapt --project ${projectDir} --from ${result.roundId}\`.`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    db.close();
  }
}
