// SGD with momentum 0.9 and weight decay, poly learning-rate decay (power 0.9) and 10x learning rate for the
// heads (CORDA.md §5); and the EMA teacher update θ' ← a·θ' + (1 − a)·θ with a = min(1 − 1/(t + 1), 0.999).
import * as tf from '../model/tf';
import type { ParamStore } from '../model/params';

export interface SgdConfig {
  lr: number;
  momentum: number;
  weightDecay: number;
  headLrMultiplier: number;
  power: number;
  totalIters: number;
}

export const polyLr = (base: number, iter: number, total: number, power = 0.9): number =>
  base * Math.pow(Math.max(0, 1 - iter / Math.max(1, total)), power);

export class Sgd {
  private readonly velocity = new Map<string, tf.Variable>();

  constructor(private readonly config: SgdConfig) {}

  /** Applies one step for the named gradients at iteration `iter` (0-based). Disposes nothing it was given. */
  step(params: ParamStore, grads: Record<string, tf.Tensor>, iter: number): void {
    const base = polyLr(this.config.lr, iter, this.config.totalIters, this.config.power);
    tf.tidy(() => {
      for (const [name, grad] of Object.entries(grads)) {
        const variable = params.vars.get(name);
        const spec = params.specs.get(name);
        if (!variable || !spec) continue;
        const lr = spec.head ? base * this.config.headLrMultiplier : base;
        let v = this.velocity.get(name);
        if (!v) {
          v = tf.variable(tf.zerosLike(variable), false);
          this.velocity.set(name, v);
        }
        const decayed = spec.kind === 'weight' ? tf.add(grad, tf.mul(variable, this.config.weightDecay)) : grad;
        v.assign(tf.add(tf.mul(v, this.config.momentum), decayed));
        variable.assign(tf.sub(variable, tf.mul(v, lr)));
      }
    });
  }

  /** Replaces the momentum buffers (resume from a checkpoint). */
  load(buffers: Map<string, tf.Variable>): void {
    this.dispose();
    for (const [name, v] of buffers) this.velocity.set(name, v);
  }

  /** Momentum buffers, for checkpoints. */
  state(): Map<string, tf.Variable> {
    return this.velocity;
  }

  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
  }
}

export const emaDecay = (iter: number, max = 0.999): number => Math.min(1 - 1 / (iter + 1), max);

/** teacher ← a·teacher + (1 − a)·student for every parameter and batch-norm statistic. */
export function updateEma(teacher: ParamStore, student: ParamStore, iter: number): void {
  const a = emaDecay(iter);
  tf.tidy(() => {
    for (const [name, t] of teacher.vars) {
      const s = student.vars.get(name);
      if (s) t.assign(tf.add(tf.mul(t, a), tf.mul(s, 1 - a)));
    }
  });
}
