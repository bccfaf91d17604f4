// Starts adaptation rounds in a worker_thread (roundWorker.ts) and relays their progress. One training job at
// a time per project: the service asks `busy` before it starts one.
import { Worker } from 'node:worker_threads';
import { UserError } from '../../shared/api';
import type { RoundProgress, RoundResult } from '../adapt/round';
import type { RoundWorkerInput, RoundWorkerMessage } from './roundWorker';
import { workerEntry } from '../workerEntry';


export interface RoundJobCallbacks {
  onStarted(roundId: number): void;
  onProgress(progress: RoundProgress): void;
  onLog(source: 'backend' | 'round', line: string): void;
}

export class RoundJobs {
  private active: { worker: Worker; cancel: () => void } | null = null;

  get busy(): boolean {
    return this.active !== null;
  }

  run(input: RoundWorkerInput, callbacks: RoundJobCallbacks, signal: AbortSignal): Promise<RoundResult> {
    const entry = workerEntry('roundWorker', __dirname);
    const worker = new Worker(entry.file, { workerData: input, execArgv: entry.execArgv });
    const cancel = () => worker.postMessage({ type: 'cancel' });
    this.active = { worker, cancel };
    signal.addEventListener('abort', cancel, { once: true });
    return new Promise<RoundResult>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        this.active = null;
        signal.removeEventListener('abort', cancel);
        fn();
      };
      worker.on('message', (message: RoundWorkerMessage) => {
        if (message.type === 'progress') callbacks.onProgress(message.progress);
        else if (message.type === 'started') callbacks.onStarted(message.roundId);
        else if (message.type === 'log') callbacks.onLog(message.source, message.line);
        else if (message.type === 'done') finish(() => resolve(message.result));
        else finish(() => reject(message.userError ? new UserError(message.message) : new Error(message.message)));
      });
      worker.on('error', (error) => finish(() => reject(error)));
      worker.on('exit', (code) => finish(() => reject(new Error(`The training worker stopped unexpectedly (exit code ${code}).`))));
    });
  }

  async stop(): Promise<void> {
    if (this.active) await this.active.worker.terminate();
    this.active = null;
  }
}
