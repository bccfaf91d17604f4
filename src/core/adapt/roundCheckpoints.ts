// Where a round's checkpoints live, and the one that evaluation, prediction, export and the next round read.
import { join } from 'node:path';
import { UserError } from '../../shared/api';
import type { Db } from '../store/db';
import * as rounds from '../store/roundsRepo';

export function checkpointDir(projectDir: string, roundId: number, iteration: number): string {
  return join(projectDir, 'checkpoints', `round-${roundId}`, `iter-${String(iteration).padStart(7, '0')}`);
}

/** The final student weights of a finished round (what evaluation, prediction and export use). */
export function finalCheckpoint(db: Db, roundId: number): { path: string } {
  const round = rounds.getRound(db, roundId);
  if (!round) throw new UserError(`There is no round ${roundId} in this project.`);
  const latest = rounds.latestCheckpoint(db, roundId);
  if (!latest || round.status !== 'done') throw new UserError(`Round ${roundId} has not finished (status: ${round.status}); resume it with \`corda adapt --resume ${roundId}\`.`);
  return latest;
}
