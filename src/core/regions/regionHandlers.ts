// The region-queue methods of the API contract (nextRegion, setRegionState, getRegionStats) and the round's
// raw editor buffers asset (`image/<id>/round/<r>/raw/<prediction|second|superpixels>`).
import { UserError, type MethodOutput, type Methods, type RoundRaw } from '../../shared/api';
import type { z } from 'zod';
import type { Db } from '../store/db';
import { latestDoneRoundId, type StoredImage } from '../store/datasetsRepo';
import * as regions from '../store/regionsRepo';
import { getRound } from '../store/roundsRepo';
import { markCoveredRegions } from './coverage';
import { roundRawBuffer } from './roundRaw';

type Handler<M extends keyof Methods> = (input: z.infer<Methods[M]['input']>) => Promise<MethodOutput<M>>;

export interface RegionHandlers {
  nextRegion: Handler<'nextRegion'>;
  setRegionState: Handler<'setRegionState'>;
  getRegionStats: Handler<'getRegionStats'>;
  asset(image: StoredImage, roundId: number, raw: RoundRaw): { data: Buffer; mime: string };
}

export function regionHandlers(db: Db, requireDataset: (datasetId: number) => unknown): RegionHandlers {
  /** The round asked for (checked to belong to the dataset), else `fallback`, else the dataset's latest finished one. */
  function resolveRound(datasetId: number, roundId: number | undefined, fallback?: number): number | null {
    requireDataset(datasetId);
    const round = roundId ?? fallback ?? latestDoneRoundId(db, datasetId);
    if (round === null) return null;
    const target = getRound(db, round)?.targetDatasetId;
    if (target === undefined) throw new UserError(`There is no round ${round} in this project.`);
    if (target !== datasetId) throw new UserError(`Round ${round} was not adapted to dataset ${datasetId}; pick one of that dataset's rounds.`);
    return round;
  }

  return {
    // The round: the one asked for, else the one the region skipped from belongs to, else the dataset's latest.
    // Open regions a person has mostly corrected already are marked covered on the way and passed over; each
    // image is judged once per call, so the loop ends.
    nextRegion: async ({ datasetId, roundId, afterRegionId }) => {
      const after = afterRegionId === undefined ? undefined : regions.getRegion(db, afterRegionId);
      if (afterRegionId !== undefined && !after) throw new UserError(`There is no region ${afterRegionId} in this project.`);
      const round = resolveRound(datasetId, roundId, after?.roundId);
      if (round === null) return null;
      if (after && after.roundId !== round) throw new UserError(`Region ${after.id} belongs to round ${after.roundId}, not round ${round}.`);
      const judged = new Set<number>();
      for (;;) {
        const next = regions.nextOpenRegion(db, round, after);
        if (!next || judged.has(next.imageId)) return next;
        judged.add(next.imageId);
        if (!markCoveredRegions(db, round, next.imageId).has(next.id)) return next;
      }
    },
    // Closing a region is when its neighbours are most likely to have been corrected with it: they are judged
    // then, so the counts show them covered at once.
    setRegionState: async ({ regionId, state, seconds }) => {
      const region = regions.setRegionState(db, regionId, state, seconds);
      if (!region) throw new UserError(`There is no region ${regionId} in this project.`);
      if (state !== 'open') markCoveredRegions(db, region.roundId, region.imageId);
      return region;
    },
    getRegionStats: async ({ datasetId, roundId }) => {
      const round = resolveRound(datasetId, roundId);
      if (round === null) return { roundId: null, open: 0, done: 0, skipped: 0, covered: 0, timed: 0, medianSeconds: null };
      return regions.regionStats(db, round);
    },
    asset: (image, roundId, raw) => ({ data: roundRawBuffer(db, roundId, image, raw), mime: 'application/octet-stream' }),
  };
}
