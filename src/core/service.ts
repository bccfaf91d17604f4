// One object implementing the API contract (src/shared/api.ts) for one open project. Electron's main process,
// the web-mode server and the CLI all call it; `call` validates every input against the contract first.
import { basename, join, resolve } from 'node:path';
import {
  UserError,
  parseInput,
  type EventMessage,
  type EventName,
  type EventPayload,
  type AssetRequest,
  type MethodName,
  type MethodOutput,
  type RoundFinishedEvent,
  type Methods,
} from '../shared/api';
import type { z } from 'zod';
import { AssetCache, type Asset } from './datasets/assets';
import { importDataset } from './datasets/importDataset';
import { isReadOnlyDb, openProjectDb, schemaVersion, storeErrorSentence, type Db } from './store/db';
import * as repo from './store/datasetsRepo';
import { correctionHandlers } from './corrections/correctionHandlers';
import { regionHandlers } from './regions/regionHandlers';
import { JobRunner } from './jobs/jobs';
import { RoundJobs } from './jobs/roundJobs';
import { getRound, listRounds } from './store/roundsRepo';
import { planResume, planRound } from './adapt/plan';
import type { RoundProgress, RoundResult } from './adapt/round';
import { renderLayer } from './adapt/layerImages';
import type { RoundWorkerInput } from './jobs/roundWorker';
import { APP_VERSION } from './version';
import { summariseRound, targetPixelLookup } from './adapt/roundSummary';
import { prepareLabelExport } from './export/labels/exportLabels';
import { exportModel, planModelExport } from './export/model/exportModel';

export type Transport = 'electron' | 'web' | 'cli';

export interface ServiceOptions {
  projectDir: string;
  transport: Transport;
  /** A native folder picker, where the host has one (Electron). */
  pickFolder?: () => Promise<string | null>;
  /** Create the project when the folder holds none. */
  create?: boolean;
}

export type Handlers = {
  [M in MethodName]: (input: z.infer<Methods[M]['input']>) => Promise<MethodOutput<M>>;
};

export interface Service {
  readonly projectDir: string;
  readonly db: Db;
  /** Validates `input` against the contract, then runs the method. */
  call<M extends MethodName>(name: M, input: unknown): Promise<MethodOutput<M>>;
  /** An image asset by id: the dataset's files (containment-checked), thumbnails, overlays, round layers. */
  asset(request: AssetRequest): Promise<Asset>;
  onEvent(listener: (message: EventMessage) => void): () => void;
  close(): void;
}

/** What each writing method does, for the sentence a read-only project answers with (exports only read it). */
const WRITES: Partial<Record<MethodName, string>> = {
  importDataset: 'import a dataset into it',
  startRound: 'run a round in it',
  resumeRound: 'resume a round in it',
  applyStroke: 'save this stroke',
  undoStroke: 'undo this stroke',
  redoStroke: 'redo this stroke',
  setRegionState: 'record the region as done or skipped',
};

/** What a finished round reports to its clients (the CLI prints it, `--json` as is). */
function roundFinished(jobId: string, result: RoundResult): RoundFinishedEvent {
  const { mIoU, mIoU16, mIoU13, perClass, evaluatedImages, val } = result.metrics;
  const init = result.init;
  return {
    jobId,
    roundId: result.roundId,
    backend: result.backend.name,
    timings: result.timings,
    metrics: { mIoU, mIoU16, mIoU13, perClass, evaluatedImages, val },
    curve: result.curve,
    init: init
      ? { file: init.file, sha256: init.sha256, from: init.from, loaded: init.loaded, missing: init.missing, unexpected: init.unexpected, shapeMismatches: init.shapeMismatches }
      : null,
  };
}

export function createService(options: ServiceOptions): Service {
  const projectDir = resolve(options.projectDir);
  const db = openProjectDb(projectDir, { create: options.create });
  const listeners = new Set<(message: EventMessage) => void>();
  const emit = <E extends EventName>(event: E, payload: EventPayload<E>) => {
    for (const listener of listeners) listener({ event, payload } as EventMessage);
  };
  const jobs = new JobRunner({
    progress: (p) => emit('jobProgress', p),
    finished: (f) => emit('jobFinished', f),
  });
  const assets = new AssetCache(join(projectDir, 'cache'));
  const roundJobs = new RoundJobs();

  /**
   * Runs a planned round in the training worker as a job: progress arrives as roundProgress events, the worker's
   * notes as roundLog, and a round that ends well as roundFinished before its jobFinished.
   */
  const launchRound = (input: Omit<RoundWorkerInput, 'projectDir'>): string => {
    if (roundJobs.busy) throw new UserError('A round is already running in this project; wait for it or cancel it first.');
    return jobs.start('round', async (ctx) => {
      let roundId: number | null = 'resume' in input.work ? input.work.resume.roundId : null;
      const relay = (p: RoundProgress) =>
        emit('roundProgress', {
          jobId: ctx.jobId,
          roundId,
          phase: p.phase,
          iteration: p.iteration,
          iters: p.iters,
          losses: p.losses ? { ...p.losses } : null,
          imagesPerSecond: p.imagesPerSecond ?? null,
          etaSeconds: p.etaSeconds ?? null,
          done: p.done ?? null,
          total: p.total ?? null,
          curve: p.curve ?? [],
        });
      const result = await roundJobs.run(
        { ...input, projectDir },
        { onStarted: (id) => (roundId = id), onProgress: relay, onLog: (source, line) => emit('roundLog', { jobId: ctx.jobId, source, line }) },
        ctx.signal,
      );
      emit('roundFinished', roundFinished(ctx.jobId, result));
    });
  };

  const requireImage = (imageId: number) => {
    const image = repo.getImage(db, imageId);
    if (!image) throw new UserError(`There is no image ${imageId} in this project.`);
    return image;
  };
  const requireDataset = (datasetId: number) => {
    const dataset = repo.getDataset(db, datasetId);
    if (!dataset) throw new UserError(`There is no dataset ${datasetId} in this project.`);
    return dataset;
  };

  const corrections = correctionHandlers(db, requireImage, requireDataset);
  const regions = regionHandlers(db, requireDataset);

  const handlers: Handlers = {
    getAppInfo: async () => ({
      version: APP_VERSION,
      projectDir,
      projectName: basename(projectDir),
      schemaVersion: schemaVersion(db),
      transport: options.transport === 'electron' ? 'electron' : 'web',
      canPickFolder: Boolean(options.pickFolder),
    }),
    listDatasets: async () => repo.listDatasets(db).map(({ layout: _layout, ...d }) => d),
    importDataset: async ({ folder, role, depth }) => {
      const result = await jobs.run('import', (ctx) =>
        importDataset(db, folder, {
          role,
          depth,
          projectDir,
          signal: ctx.signal,
          onProgress: (phase, done, total) => ctx.progress(phase, done, total),
        }),
      );
      emit('datasetsChanged', { datasetId: result.datasetId });
      return result;
    },
    listImportProblems: async ({ datasetId }) => {
      requireDataset(datasetId);
      return repo.listImportProblems(db, datasetId);
    },
    listImages: async (filter) => {
      requireDataset(filter.datasetId);
      if (filter.roundId !== undefined && getRound(db, filter.roundId)?.targetDatasetId !== filter.datasetId) {
        throw new UserError(`Round ${filter.roundId} was not adapted to dataset ${filter.datasetId}; sort by one of that dataset's rounds.`);
      }
      return repo.listImages(db, filter);
    },
    getImage: async ({ imageId }) => {
      const { cameraPath: _c, rgbStamp: _s, root: _r, kind: _k, ...detail } = requireImage(imageId);
      return detail;
    },
    generateThumbnails: async ({ datasetId }) => {
      requireDataset(datasetId);
      const images = repo.listImages(db, { datasetId });
      const jobId = jobs.start('thumbnails', async (ctx) => {
        let done = 0;
        let next = 0;
        const worker = async () => {
          while (next < images.length) {
            ctx.signal.throwIfAborted();
            const image = repo.getImage(db, images[next++]!.id);
            if (image) await assets.get(image, 'thumb').catch(() => undefined);
            done++;
            if (done % 10 === 0 || done === images.length) ctx.progress('thumbnails', done, images.length);
          }
        };
        ctx.progress('thumbnails', 0, images.length);
        await Promise.all([worker(), worker()]);
      });
      return { jobId };
    },
    cancelJob: async ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),
    pickFolder: async () => ({ path: options.pickFolder ? await options.pickFolder() : null }),
    listRounds: async () => {
      const totals = targetPixelLookup(db);
      return listRounds(db).map((r) => summariseRound(db, r, totals));
    },
    startRound: async (input) => ({ jobId: launchRound({ work: { start: planRound(db, input) }, backend: input.backend }) }),
    resumeRound: async ({ roundId, backend }) => ({ jobId: launchRound({ work: { resume: planResume(db, roundId) }, backend }) }),
    getCorrection: corrections.getCorrection,
    applyStroke: corrections.applyStroke,
    undoStroke: corrections.undoStroke,
    redoStroke: corrections.redoStroke,
    getBudget: corrections.getBudget,
    nextRegion: regions.nextRegion,
    setRegionState: regions.setRegionState,
    getRegionStats: regions.getRegionStats,
    exportModel: async (request) => {
      const plan = planModelExport(db, request);
      return {
        jobId: jobs.start('export', async (ctx) => {
          // Let the caller have the job id before the first progress event.
          await new Promise((resolve) => setImmediate(resolve));
          await exportModel(plan, { signal: ctx.signal, onProgress: (phase, done, total) => ctx.progress(phase, done, total) });
        }),
      };
    },
    exportLabels: async (request) => {
      const labelExport = prepareLabelExport(db, request);
      return { jobId: jobs.start('export', (ctx) => labelExport.run(ctx)) };
    },
  };

  return {
    projectDir,
    db,
    async call(name, input) {
      const parsed = parseInput(name, input);
      const handler = handlers[name] as (i: unknown) => Promise<MethodOutput<typeof name>>;
      const action = WRITES[name];
      if (action && isReadOnlyDb(db)) {
        throw storeErrorSentence({ code: 'SQLITE_READONLY' }, projectDir, action)!;
      }
      try {
        return await handler(parsed);
      } catch (error) {
        throw storeErrorSentence(error, projectDir, action ?? 'answer this request') ?? error;
      }
    },
    async asset(request) {
      const image = requireImage(request.imageId);
      if ('variant' in request) return assets.get(image, request.variant);
      if ('correction' in request) return corrections.asset(image, request.correction);
      if ('raw' in request) return regions.asset(image, request.roundId, request.raw);
      return { data: await renderLayer(db, request.roundId, image.id, request.layer), mime: 'image/png' };
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      jobs.cancelAll();
      void roundJobs.stop();
      listeners.clear();
      db.close();
    },
  };
}
