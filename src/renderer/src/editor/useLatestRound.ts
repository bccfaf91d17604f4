// The newest finished round on the image's dataset: the editor starts from it and shows its layers.
import { useEffect, useState } from 'react';
import type { CordaApi, RoundSummary } from '../../../shared/api';
import { useOnReconnect } from '../api/useConnection';

export function useLatestRound(api: CordaApi, datasetId: number) {
  /** null until the project's rounds are known. */
  const [rounds, setRounds] = useState<RoundSummary[] | null>(null);
  useEffect(() => {
    api.listRounds({}).then(setRounds, () => setRounds([]));
  }, [api]);
  useOnReconnect(() => {
    api.listRounds({}).then(setRounds, () => undefined);
  });
  const finished = (rounds ?? []).filter((r) => r.targetDatasetId === datasetId && r.status === 'done');
  return { roundsKnown: rounds !== null, latestRoundId: finished.length ? Math.max(...finished.map((r) => r.id)) : null };
}
