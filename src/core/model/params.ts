// Named trainable parameters and batch-norm statistics of a network, with deterministic initialisation.
// Names are stable ("enc.stem.conv.w") so checkpoints, EMA teachers and weight import can match them.
import type { TensorEntry } from './checkpoint';
import * as tf from './tf';

export type ParamKind = 'weight' | 'bias' | 'bn-scale' | 'bn-offset' | 'bn-mean' | 'bn-var';

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  /** Belongs to a head (trained with 10x the backbone learning rate, CORDA.md §5). */
  head: boolean;
}

export class ParamStore {
  readonly specs = new Map<string, ParamSpec>();
  readonly vars = new Map<string, tf.Variable>();

  constructor(private readonly random: () => number) {}

  private normal(): number {
    const u = Math.max(this.random(), 1e-12);
    const v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Registers (once) and returns a parameter. Weights get He-normal init over `fanIn` (default: all but the
   * last dimension, right for [kh, kw, in, out] convs; depthwise convs pass kh*kw), BN scale and variance 1,
   * the rest 0. `frozen` keeps a weight, bias or batch-norm affine out of training (the reference's frozen backbone
   * batch norm).
   */
  get(name: string, shape: number[], kind: ParamKind, options: { head?: boolean; fanIn?: number; std?: number; frozen?: boolean } = {}): tf.Variable {
    const existing = this.vars.get(name);
    if (existing) return existing;
    const head = options.head ?? false;
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (kind === 'weight') {
      const fanIn = options.fanIn ?? size / shape[shape.length - 1]!;
      const std = options.std ?? Math.sqrt(2 / Math.max(1, fanIn));
      for (let i = 0; i < size; i++) values[i] = this.normal() * std;
    } else if (kind === 'bn-scale' || kind === 'bn-var') {
      values.fill(1);
    }
    const trainable = !options.frozen && (kind === 'weight' || kind === 'bias' || kind === 'bn-scale' || kind === 'bn-offset');
    // tfjs variable names are global: leave them unnamed (auto-unique) so a teacher and a student can coexist.
    const variable = tf.variable(tf.tensor(values, shape), trainable);
    this.specs.set(name, { name, shape, kind, head });
    this.vars.set(name, variable);
    return variable;
  }

  /** Every parameter as a named float32 entry (`prefix` + name), for checkpoints and between threads. */
  async toEntries(prefix: string): Promise<TensorEntry[]> {
    const entries: TensorEntry[] = [];
    for (const [name, v] of this.vars) entries.push({ name: `${prefix}${name}`, shape: v.shape, data: (await v.data()) as Float32Array });
    return entries;
  }

  /** Assigns every parameter that `tensors` holds as `prefix` + name with the same shape; returns how many. */
  assignFrom(tensors: Map<string, TensorEntry>, prefix: string): number {
    let assigned = 0;
    for (const [name, v] of this.vars) {
      const t = tensors.get(`${prefix}${name}`);
      if (!t || t.shape.join() !== v.shape.join()) continue;
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
      assigned++;
    }
    return assigned;
  }

  trainable(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.specs.clear();
  }
}
