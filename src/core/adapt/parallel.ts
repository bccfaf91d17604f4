// Data-parallel training over worker_threads, so that wasm training (one core per thread in Node) uses every
// core. Each step the coordinator draws the batch and its random choices, gives each replica a slice of the
// pairs, averages their gradients and batch-norm statistics, and has every replica apply the same average:
// the replicas' weights stay identical, and the result matches one trainer on the whole batch up to the
// per-slice normalisation of the losses and the per-slice batch-norm statistics (the usual unsynchronised BN).
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../workerEntry';
import type { ReplicaInit, ReplicaReply, ReplicaRequest, WireBn, WirePass, WireTensor } from './trainReplica';
import type { BackendName } from '../model/backend';
import type { TensorEntry } from '../model/checkpoint';
import type { CordaNetwork } from '../model/network';
import { networkFor } from './networkFor';
import type { RoundConfig } from './config';
import type { Rng } from '../random';
import { PASS_ORDER, prepareBatch, sliceBatch, stepPasses, type Batch, type PassName, type StepLosses } from './trainer';

type Payload<T extends ReplicaRequest['type']> = Omit<Extract<ReplicaRequest, { type: T }>, 'id'>;

class Replica {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: ReplicaReply) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor(init: ReplicaInit) {
    const entry = workerEntry('trainReplica', __dirname);
    this.worker = new Worker(entry.file, { workerData: init, execArgv: entry.execArgv });
    let started!: () => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    this.worker.on('message', (reply: ReplicaReply) => {
      if (reply.id === 0) return started();
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.type === 'error') waiter?.reject(new Error(reply.message));
      else waiter?.resolve(reply);
    });
    const fail = (error: Error) => {
      failed(error);
      for (const w of this.pending.values()) w.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`A training replica stopped (exit code ${code}).`)));
  }

  call<T extends ReplicaRequest['type']>(payload: Payload<T>): Promise<ReplicaReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...payload, id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

function average(lists: WireTensor[][]): WireTensor[] {
  const sum = new Map<string, WireTensor>();
  for (const list of lists) {
    for (const t of list) {
      const acc = sum.get(t.name);
      if (!acc) sum.set(t.name, { name: t.name, shape: t.shape, data: Float32Array.from(t.data) });
      else for (let i = 0; i < t.data.length; i++) acc.data[i]! += t.data[i]!;
    }
  }
  // A parameter without a gradient in one replica contributes zero there.
  for (const t of sum.values()) for (let i = 0; i < t.data.length; i++) t.data[i]! /= lists.length;
  return [...sum.values()];
}

function averageBn(lists: WireBn[][]): WireBn[] {
  return lists[0]!.map((first, k) => {
    const mean = new Float32Array(first.mean.length);
    const variance = new Float32Array(first.variance.length);
    for (const list of lists) {
      const s = list[k]!;
      for (let i = 0; i < mean.length; i++) {
        mean[i]! += s.mean[i]! / lists.length;
        variance[i]! += s.variance[i]! / lists.length;
      }
    }
    return { name: first.name, mean, variance };
  });
}

/**
 * The step's gradients from passes computed apart, summed in PASS_ORDER in float32 as one trainer's tf.add sums
 * them; the batch statistics in the same order; each loss term from the pass that computed it.
 */
export function sumPasses(replies: { passes: WirePass[]; losses: StepLosses }[]): { grads: WireTensor[]; bn: WireBn[]; losses: StepLosses } {
  const passes = replies.flatMap((r) => r.passes).sort((a, b) => PASS_ORDER.indexOf(a.pass) - PASS_ORDER.indexOf(b.pass));
  const sum = new Map<string, WireTensor>();
  let total = 0;
  passes.forEach((p, k) => {
    total = k === 0 ? p.value : Math.fround(total + p.value);
    for (const t of p.grads) {
      const acc = sum.get(t.name);
      if (!acc) sum.set(t.name, { name: t.name, shape: t.shape, data: Float32Array.from(t.data) });
      else for (let i = 0; i < t.data.length; i++) acc.data[i] = acc.data[i]! + t.data[i]!;
    }
  });
  const losses = { ...replies[0]!.losses };
  // Every term but the total comes from one pass, and is 0 in the other replies.
  for (const key of Object.keys(losses) as (keyof StepLosses)[]) losses[key] = replies.reduce((a, r) => a + r.losses[key], 0);
  losses.total = total;
  return { grads: [...sum.values()], bn: passes.flatMap((p) => p.bn), losses };
}

export class ParallelTrainer {
  private readonly replicas: Replica[];
  /**
   * The last step's weight update, still running in the replicas. step() returns once the gradients are averaged,
   * so the caller draws the next batch while the replicas apply. A replica handles its messages in order and an
   * apply in one go, so the next gradients always see the updated weights; every later call also waits here, so
   * that an apply's error is not lost.
   */
  private pendingApply: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: RoundConfig,
    backend: BackendName,
    workers: number,
  ) {
    this.replicas = Array.from({ length: Math.max(1, Math.min(workers, config.batchSize)) }, () => new Replica({ config, backend }));
  }

  get workers(): number {
    return this.replicas.length;
  }

  async ready(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.ready));
  }

  async step(batch: Batch, iter: number, random: Rng): Promise<StepLosses> {
    const prepared = prepareBatch(batch, random, this.config);
    const byPass = this.passSplit(stepPasses(this.config, iter, prepared.supervise));
    let merged: { grads: WireTensor[]; bn: WireBn[]; losses: StepLosses };
    // Posted at once: each replica runs it after the previous step's apply, which may still be running.
    if (byPass) {
      const computed = Promise.all(this.replicas.map((r, k) => r.call<'passes'>({ type: 'passes', batch: prepared, iter, passes: byPass[k]! })));
      const [replies] = await Promise.all([computed, this.settled()]);
      merged = sumPasses(replies.map((r) => r as Extract<ReplicaReply, { type: 'passes' }>));
    } else {
      const n = this.replicas.length;
      const pairs = batch.source.length;
      const computed = Promise.all(
        this.replicas.map((r, k) => r.call<'gradients'>({ type: 'gradients', batch: sliceBatch(prepared, Math.floor((k * pairs) / n), Math.floor(((k + 1) * pairs) / n)), iter })),
      );
      const [replies] = await Promise.all([computed, this.settled()]);
      const results = replies.map((r) => r as Extract<ReplicaReply, { type: 'gradients' }>);
      const losses = { ...results[0]!.losses };
      for (const key of Object.keys(losses) as (keyof StepLosses)[]) losses[key] = results.reduce((a, r) => a + r.losses[key], 0) / results.length;
      merged = { grads: average(results.map((r) => r.grads)), bn: averageBn(results.map((r) => r.bn)), losses };
    }
    const { grads, bn } = merged;
    this.pendingApply = Promise.all(this.replicas.map((r) => r.call<'apply'>({ type: 'apply', grads, bn, iter })));
    // Marked handled here; the rejection itself is rethrown by the next settled().
    this.pendingApply.catch(() => undefined);
    return merged.losses;
  }

  /**
   * With parallelSplit 'passes' and two replicas, the passes each replica runs on the whole batch: the teacher and
   * ClassMix on one, the source and corrected-target passes on the other. null: split by pairs.
   */
  private passSplit(passes: PassName[]): PassName[][] | null {
    if (this.config.parallelSplit !== 'passes' || this.replicas.length !== 2 || !passes.includes('mixed')) return null;
    return [passes.filter((p) => p !== 'mixed'), ['mixed']];
  }

  /** Waits for the last step's weight update (and rethrows its error). */
  private async settled(): Promise<void> {
    const pending = this.pendingApply;
    this.pendingApply = Promise.resolve();
    await pending;
  }

  async snapshot(): Promise<TensorEntry[]> {
    await this.settled();
    return ((await this.replicas[0]!.call<'snapshot'>({ type: 'snapshot' })) as Extract<ReplicaReply, { type: 'snapshot' }>).tensors;
  }

  async restore(tensors: Map<string, TensorEntry>, studentOnly = false): Promise<void> {
    const list = [...tensors.values()];
    await this.settled();
    await Promise.all(this.replicas.map((r) => r.call<'restore'>({ type: 'restore', tensors: list, studentOnly })));
  }

  /** The trained student as a network in this thread (for prediction after training). */
  async student(): Promise<CordaNetwork> {
    const net = networkFor(this.config);
    net.params.assignFrom(new Map((await this.snapshot()).map((t) => [t.name, t])), 'student/');
    return net;
  }

  async dispose(): Promise<void> {
    await this.settled().catch(() => undefined);
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }
}
