// Ground truth for the app's own answers (overlays): the header is checked on the calling thread (cheap), and
// any map larger than a small one is decoded in a worker_thread, at most two at a time, so that the server
// keeps answering while a big label file decodes.
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError, type DatasetKind } from '../../shared/api';
import type { LabelDecodeInput, LabelDecodeMessage } from './labelDecodeWorker';
import { workerEntry } from '../workerEntry';
import { checkLabelPng, decodeTrainIds, type TrainIdMap } from './labelsIO';

/** Maps up to this many pixels decode in place (a few milliseconds); larger ones go to a worker. */
export const INLINE_DECODE_PIXELS = 512 * 512;
const MAX_WORKERS = 2;

let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function decodeInWorker(input: LabelDecodeInput): Promise<TrainIdMap> {
  return new Promise((resolve, reject) => {
    const entry = workerEntry('labelDecodeWorker', __dirname);
    const worker = new Worker(entry.file, { workerData: input, execArgv: entry.execArgv });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.once('message', (message: LabelDecodeMessage) =>
      settle(() => (message.ok ? resolve(message.map) : reject(message.userError ? new UserError(message.message) : new Error(message.message)))),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) => settle(() => reject(new Error(`The label decoder stopped unexpectedly (exit code ${code}).`))));
  });
}

/** Reads a label PNG as a trainId map without holding this thread for long. */
export async function readTrainIdsOffThread(path: string, kind: DatasetKind): Promise<TrainIdMap> {
  const png = await readFile(path);
  const what = `The label file ${basename(path)}`;
  const info = checkLabelPng(png, what);
  if (info.width * info.height <= INLINE_DECODE_PIXELS) return decodeTrainIds(png, kind, what);
  return slot(() => decodeInWorker({ png, kind, what }));
}
