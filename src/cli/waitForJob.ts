// A service method that starts a job returns its id at once; a terminal command waits for the job to end.
import { UserError, type JobProgress } from '../shared/api';
import type { Service } from '../core/service';

/**
 * Starts a job with `start` and resolves when it finishes; progress goes to `onProgress`. A failed or cancelled
 * job rejects with its one-sentence error. Ctrl-C cancels the job (and the write it was doing is undone).
 */
export async function waitForJob(
  service: Service,
  start: () => Promise<{ jobId: string }>,
  onProgress: (p: JobProgress) => void = () => undefined,
): Promise<void> {
  // Events are collected from before the start, so a job that ends at once is not missed.
  const finished = new Map<string, { status: string; error?: string }>();
  let wake: () => void = () => undefined;
  let jobId: string | null = null;
  const off = service.onEvent((m) => {
    if (m.event === 'jobFinished') {
      finished.set(m.payload.jobId, m.payload);
      if (m.payload.jobId === jobId) wake();
    } else if (m.event === 'jobProgress' && (jobId === null || m.payload.jobId === jobId)) {
      onProgress(m.payload);
    }
  });
  const cancel = () => jobId && void service.call('cancelJob', { jobId });
  process.once('SIGINT', cancel);
  try {
    jobId = (await start()).jobId;
    if (!finished.has(jobId)) await new Promise<void>((resolve) => (wake = resolve));
    const end = finished.get(jobId)!;
    if (end.status === 'cancelled') throw new UserError('Cancelled; nothing was written.');
    if (end.status !== 'done') throw new UserError(end.error ?? 'The job failed without saying why; run it again with CORDA_DEBUG=1.');
  } finally {
    process.removeListener('SIGINT', cancel);
    off();
  }
}
