// The correction budget: corrected pixels against all pixels of a dataset's training-split images (those still on
// disk). RIPU's budgets are shares of the target training set, and rounds learn from that split only; human pixels
// on other splits are counted apart.
import { TRAINING_SPLIT, type Budget } from '../../shared/api';
import type { Db } from '../store/db';
import { budgetCounts } from '../store/correctionsRepo';

export function correctionBudget(db: Db, datasetId: number): Budget {
  const counts = budgetCounts(db, datasetId, TRAINING_SPLIT);
  return { datasetId, ...counts, share: counts.totalPixels > 0 ? Math.min(1, counts.correctedPixels / counts.totalPixels) : 0 };
}
