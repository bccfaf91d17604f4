// Runs one adaptation round in a worker_thread so that training never blocks the app's event loop. The worker
// opens its own database connection and backend; it talks to the parent only through messages. The round was
// planned (adapt/plan.ts) before the worker started.
import { parentPort, workerData } from 'node:worker_threads';
import { UserError, type BackendName } from '../../shared/api';
import type { ResumePlan, RoundRequest } from '../adapt/plan';
import { resumeRound, startRound, type RoundProgress, type RoundResult } from '../adapt/round';
import { initBackend } from '../model/backend';
import { openProjectDb } from '../store/db';

/** A new round or an interrupted one, as planned. */
export type RoundWork = { start: RoundRequest } | { resume: ResumePlan };

export interface RoundWorkerInput {
  projectDir: string;
  backend?: BackendName;
  work: RoundWork;
}

export type RoundWorkerMessage =
  | { type: 'progress'; progress: RoundProgress }
  | { type: 'started'; roundId: number }
  | { type: 'log'; source: 'backend' | 'round'; line: string }
  | { type: 'done'; result: RoundResult }
  | { type: 'error'; message: string; userError: boolean };

export type RoundWorkerCommand = { type: 'cancel' };

async function main(): Promise<void> {
  const input = workerData as RoundWorkerInput;
  const post = (message: RoundWorkerMessage) => parentPort!.postMessage(message);
  const controller = new AbortController();
  parentPort!.on('message', (command: RoundWorkerCommand) => {
    if (command.type === 'cancel') controller.abort(new UserError('Cancelled; the round can be resumed from its last checkpoint.'));
  });
  const db = openProjectDb(input.projectDir);
  try {
    const backend = await initBackend(input.backend, (line) => post({ type: 'log', source: 'backend', line }));
    const ctx = {
      db,
      projectDir: input.projectDir,
      backend,
      signal: controller.signal,
      onProgress: (progress: RoundProgress) => post({ type: 'progress', progress }),
      log: (line: string) => post({ type: 'log', source: 'round', line }),
    };
    const { work } = input;
    const result = 'resume' in work ? await resumeRound(ctx, work.resume) : await startRound({ ...ctx, onStarted: (roundId) => post({ type: 'started', roundId }) }, work.start);
    post({ type: 'done', result });
  } catch (error) {
    post({ type: 'error', message: (error as Error).message, userError: error instanceof UserError });
  } finally {
    db.close();
    // The cancel listener would keep the thread alive after the round: closing the port lets it end, and its
    // backend (on a GPU, the device and every buffer) goes with it.
    parentPort!.close();
  }
}

if (parentPort) void main();
