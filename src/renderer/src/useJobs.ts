// Tracks running jobs from the API's jobProgress / jobFinished events.
import { useEffect, useState } from 'react';
import type { CordaApi, JobFinished, JobProgress } from '../../shared/api';
import { useOnReconnect } from './api/useConnection';

export interface RunningJobs {
  /** Latest progress of every job that has reported and not finished yet, oldest first. */
  jobs: JobProgress[];
}

export function useJobs(api: CordaApi, onFinished: (finished: JobFinished) => void): RunningJobs {
  const [jobs, setJobs] = useState<ReadonlyMap<string, JobProgress>>(new Map());

  useEffect(() => {
    return api.onEvent((message) => {
      if (message.event === 'jobProgress') {
        const progress = message.payload as JobProgress;
        setJobs((current) => new Map(current).set(progress.jobId, progress));
      } else if (message.event === 'jobFinished') {
        const finished = message.payload as JobFinished;
        setJobs((current) => {
          if (!current.has(finished.jobId)) return current;
          const next = new Map(current);
          next.delete(finished.jobId);
          return next;
        });
        onFinished(finished);
      }
    });
  }, [api, onFinished]);

  // Back from a lost connection: a restarted server's jobs ended with the old one; one still running reports again.
  useOnReconnect(() => setJobs(new Map()));

  return { jobs: [...jobs.values()] };
}
