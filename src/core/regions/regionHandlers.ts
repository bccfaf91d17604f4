// The region-queue methods of the API contract (nextRegion, setRegionState) and the round's raw editor
// buffers asset (`image/<id>/round/<r>/raw/<prediction|second|superpixels>`).
import { UserError, type MethodOutput, type Methods, type RoundRaw } from '../../shared/api';
import type { z } from 'zod';
import type { Db } from '../store/db';
import { latestDoneRoundId, type StoredImage } from '../store/datasetsRepo';
import * as regions from '../store/regionsRepo';
import { getRound } from '../store/roundsRepo';
import { roundRawBuffer } from './roundRaw';

type Handler<M extends keyof Methods> = (input: z.infer<Methods[M]['input']>) => Promise<MethodOutput<M>>;

export interface RegionHandlers {
  nextRegion: Handler<'nextRegion'>;
  setRegionState: Handler<'setRegionState'>;
  asset(image: StoredImage, roundId: number, raw: RoundRaw): { data: Buffer; mime: string };
}

export function regionHandlers(db: Db, requireDataset: (datasetId: number) => unknown): RegionHandlers {
  return {
    // The round: the one asked for, else the one the region skipped from belongs to, else the dataset's latest.
    nextRegion: async ({ datasetId, roundId, afterRegionId }) => {
      requireDataset(datasetId);
      const after = afterRegionId === undefined ? undefined : regions.getRegion(db, afterRegionId);
      if (afterRegionId !== undefined && !after) throw new UserError(`There is no region ${afterRegionId} in this project.`);
      const round = roundId ?? after?.roundId ?? latestDoneRoundId(db, datasetId);
      if (round === null) return null;
      const target = getRound(db, round)?.targetDatasetId;
      if (target === undefined) throw new UserError(`There is no round ${round} in this project.`);
      if (target !== datasetId) throw new UserError(`Round ${round} was not adapted to dataset ${datasetId}; pick one of that dataset's rounds.`);
      if (after && after.roundId !== round) throw new UserError(`Region ${after.id} belongs to round ${after.roundId}, not round ${round}.`);
      return regions.nextOpenRegion(db, round, after);
    },
    setRegionState: async ({ regionId, state }) => {
      const region = regions.setRegionState(db, regionId, state);
      if (!region) throw new UserError(`There is no region ${regionId} in this project.`);
      return region;
    },
    asset: (image, roundId, raw) => ({ data: roundRawBuffer(db, roundId, image, raw), mime: 'application/octet-stream' }),
  };
}
