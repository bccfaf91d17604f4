// Decodes one label PNG to a trainId map in a worker_thread, so that a long decode never holds the thread that
// answers the app's requests (see datasets/labelsOffThread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { UserError, type DatasetKind } from '../../shared/api';
import { decodeTrainIds, type TrainIdMap } from './labelsIO';

export interface LabelDecodeInput {
  png: Uint8Array;
  kind: DatasetKind;
  what: string;
}

export type LabelDecodeMessage = { ok: true; map: TrainIdMap } | { ok: false; message: string; userError: boolean };

function main(): void {
  const { png, kind, what } = workerData as LabelDecodeInput;
  let message: LabelDecodeMessage;
  try {
    message = { ok: true, map: decodeTrainIds(png, kind, what) };
  } catch (error) {
    message = { ok: false, message: (error as Error).message, userError: error instanceof UserError };
  }
  parentPort!.postMessage(message, message.ok ? [message.map.data.buffer as ArrayBuffer] : []);
}

if (parentPort) main();
