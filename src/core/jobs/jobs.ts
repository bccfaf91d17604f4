// Long work (import, thumbnails; later training and export) runs as jobs: each reports progress with a rate
// and an ETA as events, and can be cancelled through its AbortSignal.
import { randomUUID } from 'node:crypto';
import type { JobFinished, JobProgress } from '../../shared/api';

type JobKind = JobProgress['kind'];

export interface JobContext {
  jobId: string;
  signal: AbortSignal;
  progress(phase: string, done: number, total: number, message?: string): void;
}

export interface JobListener {
  progress(p: JobProgress): void;
  finished(f: JobFinished): void;
}

export class JobRunner {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly listener: JobListener) {}

  /** Runs `work` now; resolves with its result. The job id is known before the work starts. */
  run<T>(kind: JobKind, work: (ctx: JobContext) => Promise<T>, jobId: string = randomUUID()): Promise<T> {
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const started = performance.now();
    let lastPhase = '';
    let phaseStart = started;
    const ctx: JobContext = {
      jobId,
      signal: controller.signal,
      progress: (phase, done, total, message) => {
        const now = performance.now();
        if (phase !== lastPhase) {
          lastPhase = phase;
          phaseStart = now;
        }
        const seconds = (now - phaseStart) / 1000;
        const rate = seconds > 0.2 && done > 0 ? done / seconds : null;
        this.listener.progress({
          jobId, kind, phase, done, total, message,
          ratePerSecond: rate,
          etaSeconds: rate ? Math.max(0, (total - done) / rate) : null,
        });
      },
    };
    return work(ctx).then(
      (result) => {
        this.running.delete(jobId);
        this.listener.finished({ jobId, kind, status: 'done' });
        return result;
      },
      (error: unknown) => {
        this.running.delete(jobId);
        const cancelled = controller.signal.aborted;
        this.listener.finished({ jobId, kind, status: cancelled ? 'cancelled' : 'failed', error: (error as Error).message });
        throw error;
      },
    );
  }

  /** Starts `work` in the background and returns its id at once; failures arrive as jobFinished events. */
  start(kind: JobKind, work: (ctx: JobContext) => Promise<unknown>): string {
    const jobId = randomUUID();
    this.run(kind, work, jobId).catch(() => undefined);
    return jobId;
  }

  cancel(jobId: string): boolean {
    const controller = this.running.get(jobId);
    if (!controller) return false;
    controller.abort(new Error('Cancelled.'));
    return true;
  }

  cancelAll(): void {
    for (const c of this.running.values()) c.abort(new Error('Cancelled.'));
  }
}
