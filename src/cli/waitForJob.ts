// A service method that starts a job returns its id at once; a terminal command waits for the job to end.
import { UserError, type EventMessage, type JobProgress } from '../shared/api';
import type { Service } from '../core/service';

export interface WaitOptions {
  /** Every other event of the job (a round's progress, notes and result), in order. */
  onEvent?: (message: EventMessage) => void;
  /** The sentence a cancelled job ends with (default: nothing was written). */
  cancelled?: string;
}

/** The job an event belongs to, or null for events of no job. */
function jobOf(message: EventMessage): string | null {
  return 'jobId' in message.payload ? message.payload.jobId : null;
}

/**
 * Starts a job with `start` and resolves when it finishes; progress goes to `onProgress`. A failed or cancelled
 * job rejects with its one-sentence error. Ctrl-C cancels the job (and the write it was doing is undone).
 */
export async function waitForJob(
  service: Service,
  start: () => Promise<{ jobId: string }>,
  onProgress: (p: JobProgress) => void = () => undefined,
  options: WaitOptions = {},
): Promise<void> {
  // Events are collected from before the start, so a job that ends at once is not missed.
  const finished = new Map<string, { status: string; error?: string }>();
  let wake: () => void = () => undefined;
  let jobId: string | null = null;
  // Events that arrive before the job's id is known wait here, so that another job's events are never passed on.
  const early: EventMessage[] = [];
  const deliver = (m: EventMessage) => {
    if (jobOf(m) !== jobId) return;
    if (m.event === 'jobProgress') onProgress(m.payload);
    else options.onEvent?.(m);
  };
  const off = service.onEvent((m) => {
    if (m.event === 'jobFinished') {
      finished.set(m.payload.jobId, m.payload);
      if (m.payload.jobId === jobId) wake();
    } else if (jobId === null) {
      if (jobOf(m) !== null) early.push(m);
    } else {
      deliver(m);
    }
  });
  const cancel = () => jobId && void service.call('cancelJob', { jobId });
  process.once('SIGINT', cancel);
  try {
    jobId = (await start()).jobId;
    for (const m of early.splice(0)) deliver(m);
    if (!finished.has(jobId)) await new Promise<void>((resolve) => (wake = resolve));
    const end = finished.get(jobId)!;
    if (end.status === 'cancelled') throw new UserError(options.cancelled ?? 'Cancelled; nothing was written.');
    if (end.status !== 'done') throw new UserError(end.error ?? 'The job failed without saying why; run it again with CORDA_DEBUG=1.');
  } finally {
    process.removeListener('SIGINT', cancel);
    off();
  }
}
