// The budget meter's numbers for the image's dataset, fetched again whenever the queue has saved everything.
import { useCallback, useEffect, useState } from 'react';
import type { Budget, CordaApi } from '../../../shared/api';
import { useOnReconnect } from '../api/useConnection';
import type { SessionSnapshot } from '../canvas/session';

export function useBudget(api: CordaApi, datasetId: number, snapshot: SessionSnapshot | null): Budget | null {
  const [budget, setBudget] = useState<Budget | null>(null);
  const refresh = useCallback(() => {
    api.getBudget({ datasetId }).then(setBudget, () => setBudget(null));
  }, [api, datasetId]);
  const savedVersion = snapshot?.save?.state.version ?? 0;
  const pending = snapshot?.save?.pending ?? 0;
  useEffect(() => {
    if (pending === 0) refresh();
  }, [refresh, savedVersion, pending]);
  useOnReconnect(refresh);
  return budget;
}
