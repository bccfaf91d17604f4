// SGD with momentum 0.9 and weight decay (the reference), or Adam for the presets trained from scratch; poly
// learning-rate decay (power 0.9) and 10x learning rate for the heads, or for everything after the encoder as the
// reference (CORDA.md §5); and the EMA teacher update θ' ← a·θ' + (1 − a)·θ with a = min(1 − 1/(t + 1), max).
import { REFERENCE_TEN_X_MODULES } from '../model/deeplabv2';
import { blend, sgdMomentumStep } from '../model/kernels/update';
import * as tf from '../model/tf';
import type { ParamStore } from '../model/params';

export interface SgdConfig {
  /** 'sgd': v ← m·v + g, w ← w − lr·v. 'adam': β 0.9 / 0.999, ε 1e-8, bias-corrected; weight decay added to g. */
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum: number;
  weightDecay: number;
  headLrMultiplier: number;
  /** 'heads': only the last layers take headLrMultiplier; 'reference': the task branches and distillation too. */
  tenXGroup: 'heads' | 'reference';
  /** 'weights': decay convolution weights only; 'all': every parameter that gets a gradient (PyTorch SGD's weight_decay). */
  weightDecayScope?: 'weights' | 'all';
  power: number;
  totalIters: number;
  /** Iterations of linear learning-rate warm-up at the round's start (scheduledLr); 0 = none. */
  warmupIters?: number;
}

/**
 * Everything after the shared encoder: the reference's 10x group (its get_10x_lr_params). The `paper` network
 * keeps the reference's module names (initial_task_prediction_heads, multi_modal_distillation, heads; ../model/deeplabv2.ts).
 */
const AFTER_ENCODER = new RegExp(`^(sem|depth|distil|head|${REFERENCE_TEN_X_MODULES.join('|')})\\.`);

export function inTenXGroup(name: string, head: boolean, group: SgdConfig['tenXGroup']): boolean {
  return head || (group === 'reference' && AFTER_ENCODER.test(name));
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
/** Suffixes of Adam's moment buffers in the optimizer state (checkpoints keep them as `momentum/<name>#m`). */
const ADAM_FIRST = '#m';
const ADAM_SECOND = '#v';

export const polyLr = (base: number, iter: number, total: number, power = 0.9): number =>
  base * Math.pow(Math.max(0, 1 - iter / Math.max(1, total)), power);

/** The poly rate, scaled by (iter + 1) / warmup over the first `warmup` iterations. */
export const scheduledLr = (base: number, iter: number, total: number, power = 0.9, warmup = 0): number =>
  polyLr(base, iter, total, power) * (warmup > 0 ? Math.min(1, (iter + 1) / warmup) : 1);

export class Sgd {
  private readonly velocity = new Map<string, tf.Variable>();

  constructor(private readonly config: SgdConfig) {}

  /** Applies one step for the named gradients at iteration `iter` (0-based). Disposes nothing it was given. */
  step(params: ParamStore, grads: Record<string, tf.Tensor>, iter: number): void {
    const base = scheduledLr(this.config.lr, iter, this.config.totalIters, this.config.power, this.config.warmupIters);
    tf.tidy(() => {
      for (const [name, grad] of Object.entries(grads)) {
        const variable = params.vars.get(name);
        const spec = params.specs.get(name);
        if (!variable || !spec) continue;
        const lr = inTenXGroup(name, spec.head, this.config.tenXGroup) ? base * this.config.headLrMultiplier : base;
        const decays = spec.kind === 'weight' || this.config.weightDecayScope === 'all';
        if (this.config.optimizer === 'sgd') {
          const v = this.buffer(name, variable);
          const [weights, velocity] = sgdMomentumStep(variable, grad, v, lr, this.config.momentum, decays ? this.config.weightDecay : 0);
          v.assign(velocity);
          variable.assign(weights);
        } else {
          const decayed = decays ? tf.add(grad, tf.mul(variable, this.config.weightDecay)) : grad;
          const m = this.buffer(`${name}${ADAM_FIRST}`, variable);
          const v = this.buffer(`${name}${ADAM_SECOND}`, variable);
          m.assign(tf.add(tf.mul(m, ADAM_BETA1), tf.mul(decayed, 1 - ADAM_BETA1)));
          v.assign(tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(decayed), 1 - ADAM_BETA2)));
          const t = iter + 1;
          const mHat = tf.div(m, 1 - Math.pow(ADAM_BETA1, t));
          const vHat = tf.div(v, 1 - Math.pow(ADAM_BETA2, t));
          variable.assign(tf.sub(variable, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), ADAM_EPSILON)), lr)));
        }
      }
    });
  }

  private buffer(key: string, like: tf.Variable): tf.Variable {
    let buffer = this.velocity.get(key);
    if (!buffer) {
      buffer = tf.variable(tf.zerosLike(like), false);
      this.velocity.set(key, buffer);
    }
    return buffer;
  }

  /** Replaces the momentum buffers (resume from a checkpoint). */
  load(buffers: Map<string, tf.Variable>): void {
    this.dispose();
    for (const [name, v] of buffers) this.velocity.set(name, v);
  }

  /** Momentum (SGD) or moment (Adam) buffers by key, for checkpoints. */
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
export function updateEma(teacher: ParamStore, student: ParamStore, iter: number, max = 0.999): void {
  const a = emaDecay(iter, max);
  tf.tidy(() => {
    for (const [name, t] of teacher.vars) {
      const s = student.vars.get(name);
      if (s) t.assign(blend(t, s, a, 1 - a));
    }
  });
}
