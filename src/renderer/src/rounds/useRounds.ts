// The project's rounds and the one this window knows to be running, from the API's events: shared by the
// sidebar's compact panel and the full Rounds view. Keeps each running round's loss history for the chart; its
// val learning curve comes whole with every progress event.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CordaApi, JobFinished, JobProgress, RoundProgressEvent, RoundSummary } from '../../../shared/api';
import { errorMessage } from '../ApiContext';
import { useOnReconnect } from '../api/useConnection';

/** The round job this window knows to be running: from its own start/resume, or from progress events. */
export interface ActiveJob {
  jobId: string;
  /** Latest progress; null until the worker reports (it loads data and the backend first). */
  progress: RoundProgressEvent | null;
  cancelling: boolean;
}

export interface LossPoint {
  iteration: number;
  losses: Record<string, number>;
}

export const RESUMABLE: ReadonlySet<RoundSummary['status']> = new Set(['cancelled', 'failed', 'interrupted']);
export const IN_PROGRESS: ReadonlySet<RoundSummary['status']> = new Set(['running', 'predicting']);
const MAX_LOSS_POINTS = 2000;

export function useRounds(api: CordaApi) {
  const [rounds, setRounds] = useState<RoundSummary[] | null>(null);
  const [active, setActive] = useState<ActiveJob | null>(null);
  const [requesting, setRequesting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lossHistory, setLossHistory] = useState<{ jobId: string; points: LossPoint[] } | null>(null);
  /** Jobs that finished, so a start/resume answer arriving after its own jobFinished does not revive it. */
  const finishedJobs = useRef(new Set<string>());
  /** The last (job, round, phase) progress was seen for: a change means the list's rows are stale. */
  const seenPhase = useRef<string | null>(null);

  const reload = useCallback(() => {
    api.listRounds({}).then(setRounds, (reason: unknown) => setError(errorMessage(reason)));
  }, [api]);

  useEffect(() => {
    reload();
    return api.onEvent((message) => {
      if (message.event === 'roundProgress') {
        const progress = message.payload as RoundProgressEvent;
        if (finishedJobs.current.has(progress.jobId)) return;
        setActive((current) =>
          current?.jobId === progress.jobId ? { ...current, progress } : { jobId: progress.jobId, progress, cancelling: false },
        );
        const losses = progress.losses;
        if (progress.phase === 'training' && losses) {
          setLossHistory((current) => {
            const points = current?.jobId === progress.jobId ? current.points : [];
            if (points.at(-1)?.iteration === progress.iteration) return current;
            const next = [...points, { iteration: progress.iteration, losses }];
            return { jobId: progress.jobId, points: next.length > MAX_LOSS_POINTS ? next.filter((_, i) => i % 2 === 0) : next };
          });
        }
        const phaseKey = `${progress.jobId}:${progress.roundId}:${progress.phase}`;
        if (progress.roundId !== null && seenPhase.current !== phaseKey) {
          seenPhase.current = phaseKey;
          reload();
        }
      } else if (message.event === 'jobFinished') {
        const finished = message.payload as JobFinished;
        if (finished.kind !== 'round') return;
        finishedJobs.current.add(finished.jobId);
        setActive((current) => (current?.jobId === finished.jobId ? null : current));
        if (finished.status === 'failed') setError(finished.error ?? 'The round failed, and the error carried no message.');
        reload();
      }
    });
  }, [api, reload]);

  // Back from a lost connection (the server may have restarted, ending its round): list the rounds again; a
  // round still running reports its progress again and is shown as active then.
  useOnReconnect(() => {
    setActive(null);
    reload();
  });

  async function launch(request: () => Promise<{ jobId: string }>) {
    setError(null);
    setRequesting(true);
    try {
      const { jobId } = await request();
      if (!finishedJobs.current.has(jobId)) {
        setActive((current) => (current?.jobId === jobId ? current : { jobId, progress: null, cancelling: false }));
      }
    } catch (reason) {
      setError(errorMessage(reason));
    } finally {
      setRequesting(false);
    }
  }

  async function cancel() {
    if (!active) return;
    const { jobId } = active;
    setActive((current) => (current?.jobId === jobId ? { ...current, cancelling: true } : current));
    try {
      await api.cancelJob({ jobId });
    } catch (reason) {
      setError(errorMessage(reason));
      setActive((current) => (current?.jobId === jobId ? { ...current, cancelling: false } : current));
    }
  }

  return {
    rounds,
    active,
    requesting,
    busy: active !== null || requesting,
    error,
    lossPoints: lossHistory && active && lossHistory.jobId === active.jobId ? lossHistory.points : [],
    curve: active?.progress?.curve ?? [],
    launch: (request: () => Promise<{ jobId: string }>) => void launch(request),
    resume: (roundId: number) => void launch(() => api.resumeRound({ roundId })),
    cancel: () => void cancel(),
    reload,
  };
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}%`;
}

/** The ProgressBar's view of a round: iterations while training, images while predicting. */
export function toJobProgress(progress: RoundProgressEvent): JobProgress {
  const predicting = progress.phase === 'predicting';
  return {
    jobId: progress.jobId,
    kind: 'round',
    phase: progress.phase,
    done: predicting ? (progress.done ?? 0) : progress.iteration,
    total: predicting ? (progress.total ?? 0) : progress.iters,
    ratePerSecond: progress.imagesPerSecond,
    etaSeconds: progress.etaSeconds,
  };
}

export function describeLive(progress: RoundProgressEvent | null): string {
  if (!progress) return 'loading data and backend…';
  if (progress.phase === 'predicting') return `trained ${progress.iters.toLocaleString()} iterations; predicting the target images`;
  const parts: string[] = [`iteration ${progress.iteration.toLocaleString()} / ${progress.iters.toLocaleString()}`];
  if (progress.imagesPerSecond !== null) parts.push(`${progress.imagesPerSecond.toFixed(1)} img/s`);
  const total = progress.losses?.total;
  if (total !== undefined) parts.push(`loss ${total.toFixed(3)}`);
  return parts.join(' · ');
}
