// One data-parallel training replica (a worker_thread with its own tfjs backend and model copy). The parent
// (./parallel.ts) sends it a slice of each batch, averages every replica's gradients and batch-norm
// statistics, and sends the average back, so all replicas keep identical weights.
import { parentPort, workerData } from 'node:worker_threads';
import type { RoundConfig } from './config';
import { Trainer, disposeGradients, type PassName, type PreparedBatch, type StepGradients, type StepLosses } from './trainer';
import { initBackend, type BackendName } from '../model/backend';
import type { TensorEntry } from '../model/checkpoint';
import * as tf from '../model/tf';

export interface ReplicaInit {
  config: RoundConfig;
  backend: BackendName;
}

export interface WireTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export type ReplicaRequest =
  | { id: number; type: 'gradients'; batch: PreparedBatch; iter: number }
  | { id: number; type: 'passes'; batch: PreparedBatch; iter: number; passes: PassName[] }
  | { id: number; type: 'apply'; grads: WireTensor[]; bn: WireBn[]; iter: number }
  | { id: number; type: 'snapshot' }
  | { id: number; type: 'restore'; tensors: TensorEntry[]; studentOnly: boolean };

export interface WireBn {
  name: string;
  mean: Float32Array;
  variance: Float32Array;
}

/** One pass's gradients on the wire (computePassGradients). */
export interface WirePass {
  pass: PassName;
  value: number;
  grads: WireTensor[];
  bn: WireBn[];
}

export type ReplicaReply =
  | { id: number; type: 'gradients'; grads: WireTensor[]; bn: WireBn[]; losses: StepLosses }
  | { id: number; type: 'passes'; passes: WirePass[]; losses: StepLosses }
  | { id: number; type: 'ok' }
  | { id: number; type: 'snapshot'; tensors: TensorEntry[] }
  | { id: number; type: 'error'; message: string };

async function toWire(computed: Pick<StepGradients, 'grads' | 'bnStats'>): Promise<{ grads: WireTensor[]; bn: WireBn[] }> {
  const grads: WireTensor[] = [];
  for (const [name, t] of Object.entries(computed.grads)) grads.push({ name, shape: t.shape, data: (await t.data()) as Float32Array });
  const bn: WireBn[] = [];
  for (const s of computed.bnStats) bn.push({ name: s.name, mean: (await s.mean.data()) as Float32Array, variance: (await s.variance.data()) as Float32Array });
  return { grads, bn };
}

async function main(): Promise<void> {
  const init = workerData as ReplicaInit;
  await initBackend(init.backend);
  const trainer = new Trainer(init.config);
  const port = parentPort!;
  port.postMessage({ id: 0, type: 'ok' } satisfies ReplicaReply);
  port.on('message', (request: ReplicaRequest) => {
    void (async (): Promise<ReplicaReply> => {
      switch (request.type) {
        case 'gradients': {
          const computed = await trainer.computeGradients(request.batch, request.iter);
          try {
            return { id: request.id, type: 'gradients', ...(await toWire(computed)), losses: computed.losses };
          } finally {
            disposeGradients(computed);
          }
        }
        case 'passes': {
          const computed = await trainer.computePassGradients(request.batch, request.iter, request.passes);
          try {
            const passes: WirePass[] = [];
            for (const p of computed.passes) passes.push({ pass: p.pass, value: p.value, ...(await toWire(p)) });
            return { id: request.id, type: 'passes', passes, losses: computed.losses };
          } finally {
            for (const p of computed.passes) disposeGradients({ ...p, losses: computed.losses });
          }
        }
        case 'apply': {
          // No await in here: an apply runs in one go before the next message (ParallelTrainer posts the next
          // step's gradients without waiting for it).
          const grads: Record<string, tf.Tensor> = {};
          for (const g of request.grads) grads[g.name] = tf.tensor(g.data, g.shape);
          const bn = request.bn.map((b) => ({ name: b.name, mean: tf.tensor1d(b.mean), variance: tf.tensor1d(b.variance) }));
          try {
            trainer.apply(grads, bn, request.iter);
          } finally {
            tf.dispose([...Object.values(grads), ...bn.flatMap((b) => [b.mean, b.variance])]);
          }
          return { id: request.id, type: 'ok' };
        }
        case 'snapshot':
          return { id: request.id, type: 'snapshot', tensors: await trainer.snapshot() };
        case 'restore':
          trainer.restore(new Map(request.tensors.map((t) => [t.name, t])), request.studentOnly);
          return { id: request.id, type: 'ok' };
      }
    })().then(
      (reply) => port.postMessage(reply),
      (error: unknown) => port.postMessage({ id: request.id, type: 'error', message: (error as Error).message } satisfies ReplicaReply),
    );
  });
}

if (parentPort) void main();
