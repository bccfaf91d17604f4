// The learning curve: while a round trains, the student is scored every `evalEvery` iterations on the target's
// val images that have ground truth, exactly as the round's final evaluation scores them (so the last point
// equals the round's val mIoU), but without predicting layers or writing anything.
import type { CurvePoint } from '../../shared/api';
import { computeMetrics, createConfusion } from '../eval';
import type { CordaNetwork } from '../model/network';
import type { StoredImage } from '../store/datasetsRepo';
import type { RoundConfig } from './config';
import { loadSample } from './data';
import { accumulateAgainstGroundTruth, predictLogits } from './predict';
import type { StepLosses } from './trainer';

export const labelledValImages = (images: readonly StoredImage[]): StoredImage[] => images.filter((i) => i.split === 'val' && i.labelPath !== null);

/**
 * Whether training scores val after iteration `done` (1-based). The end of training is left to the round's
 * final evaluation, which scores the same images with the same network.
 */
export const scoresAfter = (done: number, config: Pick<RoundConfig, 'evalEvery' | 'iters'>): boolean =>
  config.evalEvery > 0 && done % config.evalEvery === 0 && done < config.iters;

/** Val mIoU (19 classes, a fraction) of `net` on `images`; null when no class could be scored. */
export async function scoreImages(net: CordaNetwork, images: readonly StoredImage[], width: number, signal?: AbortSignal): Promise<number | null> {
  const confusion = createConfusion();
  for (const image of images) {
    signal?.throwIfAborted();
    const sample = await loadSample(image, width, { labels: false, depth: false });
    const logits = predictLogits(net, sample);
    await accumulateAgainstGroundTruth(image, logits, [confusion]).finally(() => logits.dispose());
  }
  return computeMetrics(confusion).mIoU;
}

/** A point of the curve; `losses` are the step's own (none when a resumed round had no step left to train). */
export const curvePoint = (iteration: number, valMIoU: number | null, losses: StepLosses | null): CurvePoint => ({ iteration, valMIoU, losses: { ...losses } });

/** The points a resumed round keeps: those scored on weights its checkpoint still holds. */
export const curveUpTo = (curve: readonly CurvePoint[], iteration: number): CurvePoint[] => curve.filter((p) => p.iteration <= iteration);

/** How many val scorings training still makes after iteration `done` (for the time left). */
export const scoringsLeft = (done: number, config: Pick<RoundConfig, 'evalEvery' | 'iters'>): number =>
  config.evalEvery > 0 ? Math.max(0, Math.floor((config.iters - 1) / config.evalEvery) - Math.floor(done / config.evalEvery)) : 0;
