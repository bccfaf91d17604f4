// A PyTorch checkpoint stored as a finished round: its weights as the round's final checkpoint, every target
// image predicted (label map, confidence, difficulty, both depth heads, the region queue) and the metrics, as a
// round that trained stores them. A person can start correcting at once and the next round continues from it.
import { UserError } from '../../shared/api';
import { writeCheckpoint } from '../model/checkpoint';
import type { PaperVariant } from '../model/deeplabv2';
import type { PresetName } from '../model/network';
import { initRecord, loadTorchInit, describeInitReport, type InitReport } from '../model/torchInit';
import type { StateDictSource } from '../model/torchCheckpoint';
import { releasePooledGpuBuffers } from '../model/webgpu';
import { getDataset, getImage, listImages } from '../store/datasetsRepo';
import * as rounds from '../store/roundsRepo';
import { defaultConfig } from './config';
import { networkFor } from './networkFor';
import { predictAndEvaluate, type RoundMetrics } from './predict';
import type { RoundContext } from './round';
import { checkpointDir } from './roundCheckpoints';

export interface ImportModelRequest {
  file: string;
  from: StateDictSource;
  preset: PresetName;
  /** `paper`: the reference network's GTA or SYNTHIA form. */
  variant?: PaperVariant;
  targetDatasetId: number;
  /** The source dataset the next round trains on; recorded with the round as every round records it. */
  sourceDatasetId: number;
}

export interface ImportModelResult {
  roundId: number;
  init: InitReport;
  metrics: RoundMetrics;
}

export async function importModelRound(ctx: RoundContext, req: ImportModelRequest): Promise<ImportModelResult> {
  const target = getDataset(ctx.db, req.targetDatasetId);
  const source = getDataset(ctx.db, req.sourceDatasetId);
  if (!target) throw new UserError(`There is no dataset ${req.targetDatasetId} in this project (see \`corda datasets\`).`);
  if (!source) throw new UserError(`There is no dataset ${req.sourceDatasetId} in this project (see \`corda datasets\`).`);
  const targetImages = listImages(ctx.db, { datasetId: target.id }).map((i) => getImage(ctx.db, i.id)!);
  if (targetImages.length === 0) throw new UserError(`The target dataset "${target.name}" has no images to predict.`);
  // The multi-task network (both depth heads), as the reference's checkpoints are; its depth heads give raw values.
  const config = { ...defaultConfig('corda', req.preset, { init: req.file, initFrom: req.from, ...(req.variant && { variant: req.variant }) }), depthScale: 1 };
  const net = networkFor(config);
  try {
    // Read and matched before the round exists: a file that does not fit writes nothing.
    const init = await loadTorchInit(net, req.file, req.from, req.preset);
    for (const line of describeInitReport(init)) ctx.log?.(line);
    const protocol = source.kind === 'synthia' ? 16 : 19;
    const roundId = rounds.createRound(ctx.db, {
      parentId: null,
      sourceDatasetId: source.id,
      targetDatasetId: target.id,
      method: config.method,
      preset: config.preset,
      config: { ...config, protocol, sourceName: source.name, targetName: target.name, startedFrom: initRecord(init), imported: true },
      backend: ctx.backend,
    });
    ctx.onStarted?.(roundId);
    try {
      // Teacher = student: what a round from this one restores is the student; the teacher starts as its copy.
      const student = await net.params.toEntries('student/');
      const teacher = student.map((t) => ({ ...t, name: `teacher/${t.name.slice('student/'.length)}` }));
      const dir = checkpointDir(ctx.projectDir, roundId, 0);
      const sha = writeCheckpoint(dir, [...student, ...teacher], { iteration: 0, config, imported: initRecord(init) });
      rounds.addCheckpoint(ctx.db, roundId, 0, dir, sha);
      rounds.updateRound(ctx.db, roundId, { status: 'predicting' });
      const predictStart = performance.now();
      const metrics = await predictAndEvaluate(ctx.db, roundId, net, targetImages, config, {
        signal: ctx.signal,
        log: ctx.log,
        onProgress: (done, total) => ctx.onProgress?.({ phase: 'predicting', iteration: 0, iters: 0, done, total }),
      });
      const timings = { threads: 1, trainSeconds: 0, predictSeconds: (performance.now() - predictStart) / 1000, msPerStep: 0, curveSeconds: 0 };
      rounds.updateRound(ctx.db, roundId, { status: 'done', timings, metrics: metrics as unknown as Record<string, unknown>, finished: true });
      return { roundId, init, metrics };
    } catch (error) {
      const cancelled = ctx.signal?.aborted;
      rounds.updateRound(ctx.db, roundId, {
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? 'Cancelled while predicting; import the checkpoint again.' : (error as Error).message,
      });
      throw error;
    }
  } finally {
    net.dispose();
    releasePooledGpuBuffers();
  }
}
