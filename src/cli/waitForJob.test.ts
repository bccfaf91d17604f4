import { describe, expect, it } from 'vitest';
import type { EventMessage, JobProgress } from '../shared/api';
import type { Service } from '../core/service';
import { waitForJob } from './waitForJob';

/** A service whose job start emits `before` (while the id is unknown to the caller), then `after`. */
function fakeService(before: EventMessage[], after: EventMessage[]): Service {
  const listeners = new Set<(m: EventMessage) => void>();
  const emit = (m: EventMessage) => listeners.forEach((l) => l(m));
  return {
    onEvent(listener: (m: EventMessage) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async call() {
      before.forEach(emit);
      setTimeout(() => after.forEach(emit), 0);
      return { jobId: 'mine' };
    },
  } as unknown as Service;
}

const progress = (jobId: string, done: number): EventMessage => ({
  event: 'jobProgress',
  payload: { jobId, kind: 'round', phase: 'train', done, total: 10, ratePerSecond: null, etaSeconds: null },
});
const log = (jobId: string, line: string): EventMessage => ({ event: 'roundLog', payload: { jobId, source: 'round', line } });
const finished = (jobId: string, status: 'done' | 'failed', error?: string): EventMessage => ({
  event: 'jobFinished',
  payload: { jobId, kind: 'round', status, ...(error && { error }) },
});

describe('waitForJob', () => {
  it("passes on its own job's events, those sent before the id was known included, and no other job's", async () => {
    const service = fakeService(
      [progress('other', 1), log('other', 'not mine'), progress('mine', 1), log('mine', 'early')],
      [progress('other', 2), progress('mine', 2), log('mine', 'late'), finished('other', 'failed', 'not mine'), finished('mine', 'done')],
    );
    const seen: number[] = [];
    const lines: string[] = [];
    await waitForJob(service, () => service.call('cancelJob', { jobId: 'x' }) as unknown as Promise<{ jobId: string }>, (p: JobProgress) => seen.push(p.done), {
      onEvent: (m) => m.event === 'roundLog' && lines.push(m.payload.line),
    });
    expect(seen).toEqual([1, 2]);
    expect(lines).toEqual(['early', 'late']);
  });

  it("rejects with its own job's error sentence", async () => {
    const service = fakeService([finished('mine', 'failed', 'The disk is full.')], []);
    await expect(waitForJob(service, () => service.call('cancelJob', { jobId: 'x' }) as unknown as Promise<{ jobId: string }>)).rejects.toThrow('The disk is full.');
  });
});
