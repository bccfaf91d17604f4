// A round row as the contract shows it: status, timings and the evaluation's headline numbers, plus how much
// of the target training split was human-corrected when it started (for the mIoU-against-budget plot).
import type { RoundSummary } from '../../shared/api';
import { correctionBudget } from '../corrections/budget';
import { roundBackendLabel } from '../model/gpuAdapter';
import type { Db } from '../store/db';
import type { RoundRow } from '../store/roundsRepo';

interface StoredMetrics {
  mIoU?: number | null;
  mIoU16?: number | null;
  mIoU13?: number | null;
  perClass?: Record<string, number | null>;
  val?: { mIoU: number | null } | null;
}

export function summariseRound(db: Db, r: RoundRow, totalTargetPixels: (datasetId: number) => number): RoundSummary {
  const metrics = r.metrics as StoredMetrics | null;
  const corrections = r.config.corrections as { pixels?: number } | undefined;
  const total = totalTargetPixels(r.targetDatasetId);
  const started = r.config.startedFrom as { name?: unknown; sha256?: unknown } | undefined;
  const imported = r.config.imported === true;
  return {
    id: r.id,
    parentId: r.parentId,
    sourceDatasetId: r.sourceDatasetId,
    targetDatasetId: r.targetDatasetId,
    method: r.method as RoundSummary['method'],
    preset: r.preset,
    status: r.status,
    iteration: r.iteration,
    // An imported checkpoint trained elsewhere: no iterations here.
    iters: imported ? 0 : Number(r.config.iters ?? 0),
    backend: roundBackendLabel(r.backend),
    mIoU: metrics?.mIoU ?? null,
    valMIoU: metrics?.val?.mIoU ?? null,
    mIoU16: metrics?.mIoU16 ?? null,
    mIoU13: metrics?.mIoU13 ?? null,
    perClass: metrics?.perClass ?? null,
    msPerStep: r.timings?.msPerStep ?? null,
    seed: typeof r.config.seed === 'number' ? r.config.seed : null,
    useCorrections: r.config.useCorrections !== false,
    curve: r.curve,
    correctedShare: corrections && typeof corrections.pixels === 'number' && total > 0 ? corrections.pixels / total : corrections ? 0 : null,
    startedFrom: started && typeof started.name === 'string' && typeof started.sha256 === 'string' ? { name: started.name, sha256: started.sha256, imported } : null,
    error: r.error,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  };
}

/** Pixels of each target dataset's training split (the budget's denominator), looked up once per listing. */
export function targetPixelLookup(db: Db): (datasetId: number) => number {
  const cache = new Map<number, number>();
  return (datasetId) => {
    let total = cache.get(datasetId);
    if (total === undefined) {
      total = correctionBudget(db, datasetId).totalPixels;
      cache.set(datasetId, total);
    }
    return total;
  };
}
