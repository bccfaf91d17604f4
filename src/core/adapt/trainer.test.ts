import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../model/tf';
import { defaultConfig } from './config';
import { Rng } from '../random';
import { toyCrop } from './toyCrop';
import { disposeGradients, prepareBatch, Trainer, type Batch } from './trainer';
import { initBackend } from '../model/backend';

beforeAll(async () => {
  // wasm with the project's kernels: the backend training uses on machines without tfjs-node.
  await initBackend('wasm');
});

const W = 48;
const H = 32;

const crop = (shift: number, tint: number) => toyCrop(W, H, shift, tint);

function batch(): Batch {
  return { source: [crop(0, 0), crop(8, 0)], target: [crop(4, 30), crop(12, 30)].map((c) => ({ ...c, labels: null })) };
}

describe('Trainer', () => {
  for (const method of ['source-only', 'dacs', 'corda'] as const) {
    it(`runs ${method} steps with finite losses and a flat tensor count`, async () => {
      const config = defaultConfig(method, 'tiny', { crop: { width: W, height: H }, iters: 20, seed: 4, sourceWarmup: 0 });
      const trainer = new Trainer(config);
      const random = new Rng(9);
      const first = await trainer.step(batch(), 0, random);
      const afterFirst = tf.memory().numTensors;
      const losses = [first];
      for (let i = 1; i < 20; i++) losses.push(await trainer.step(batch(), i, random));
      expect(tf.memory().numTensors).toBe(afterFirst);
      for (const l of losses) expect(Number.isFinite(l.total)).toBe(true);
      if (method === 'source-only') expect(first.mixedCe).toBe(0);
      else expect(first.mixedCe).toBeGreaterThan(0);
      if (method === 'corda') expect(first.sourceDepth).toBeGreaterThan(0);
      else expect(first.sourceDepth).toBe(0);
      expect(losses[19]!.sourceCe).toBeLessThan(losses[0]!.sourceCe);
      trainer.dispose();
    });
  }

  it('restores a snapshot exactly, so a resumed round continues identically', async () => {
    const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 2 });
    const a = new Trainer(config);
    const randomA = new Rng(3);
    await a.step(batch(), 0, randomA);
    const snap = await a.snapshot();
    const state = randomA.state;
    const nextA = await a.step(batch(), 1, randomA);

    const b = new Trainer(config);
    b.restore(new Map(snap.map((t) => [t.name, t])));
    const nextB = await b.step(batch(), 1, new Rng(state));
    expect(nextB.total).toBeCloseTo(nextA.total, 5);
    a.dispose();
    b.dispose();
  });
});

describe('gradients pass by pass', () => {
  it('equal the unsplit step\'s (one tape over the source, ClassMix and corrected passes), with the same losses and BN statistics', async () => {
    const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 6, sourceWarmup: 0 });
    const top = new Uint8Array(W * H).fill(255).fill(5, 0, W * 8);
    const withCorrection: Batch = { source: [crop(0, 0), crop(8, 0)], target: [{ ...crop(4, 30), labels: top }, { ...crop(12, 30), labels: null }] };
    const split = new Trainer(config);
    const joint = new Trainer(config);
    joint.passByPass = false;
    const a = await split.computeGradients(prepareBatch(withCorrection, new Rng(11), config), 0);
    const b = await joint.computeGradients(prepareBatch(withCorrection, new Rng(11), config), 0);
    expect(a.losses.correctedCe).toBeGreaterThan(0);
    expect(a.losses).toEqual(b.losses);
    expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
    for (const [name, grad] of Object.entries(a.grads)) {
      const x = await grad.data();
      const y = await b.grads[name]!.data();
      const scale = Math.max(1e-3, ...Array.from(y, Math.abs));
      const worst = Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i]!)));
      expect(worst / scale, name).toBeLessThan(1e-5);
    }
    expect(a.bnStats.map((s) => s.name)).toEqual(b.bnStats.map((s) => s.name));
    for (let i = 0; i < a.bnStats.length; i++) expect(Array.from(await a.bnStats[i]!.mean.data())).toEqual(Array.from(await b.bnStats[i]!.mean.data()));
    disposeGradients(a);
    disposeGradients(b);
    split.dispose();
    joint.dispose();
  });
});

describe('gradients of some passes', () => {
  it('leave no tensor behind once disposed, and run only the passes asked for', async () => {
    const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 6, sourceWarmup: 0 });
    const top = new Uint8Array(W * H).fill(255).fill(5, 0, W * 8);
    const withCorrection: Batch = { source: [crop(0, 0), crop(8, 0)], target: [{ ...crop(4, 30), labels: top }, { ...crop(12, 30), labels: null }] };
    const trainer = new Trainer(config);
    const prepared = prepareBatch(withCorrection, new Rng(11), config);
    const tensors = tf.memory().numTensors;
    for (const only of [['source', 'corrected'], ['mixed']] as const) {
      const { passes, losses } = await trainer.computePassGradients(prepared, 0, only);
      expect(passes.map((p) => p.pass)).toEqual(only);
      expect(losses.mixedCe > 0).toBe(only.includes('mixed' as never));
      expect(losses.sourceCe > 0).toBe(only.includes('source' as never));
      for (const p of passes) disposeGradients({ ...p, losses });
    }
    expect(tf.memory().numTensors).toBe(tensors);
    trainer.dispose();
  });
});

describe('the recipe', () => {
  it('learns the source alone during the warm-up share of a round, then adapts', async () => {
    const config = defaultConfig('dacs', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 4, sourceWarmup: 0.2 });
    const trainer = new Trainer(config);
    const random = new Rng(9);
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push(await trainer.step(batch(), i, random));
    expect(losses.map((l) => l.mixedCe > 0)).toEqual([false, false, true]);
    trainer.dispose();
  });

  it('regresses depth on target / depthScale, with outputs in target units and the same validity', async () => {
    const at = (depthScale: number) => {
      const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 4, depthScale });
      return new Trainer(config);
    };
    const plain = at(1);
    const scaled = at(40);
    const x = tf.zeros([1, H, W, 3]) as tf.Tensor4D;
    const a = plain.student.forward(x, { training: false });
    const b = scaled.student.forward(x, { training: false });
    // Same seed, same raw head: the scaled network's depth outputs are 40x the plain one's.
    expect(tf.max(tf.abs(tf.sub(tf.mul(a.depthSrc!, 40), b.depthSrc!))).dataSync()[0]).toBeLessThan(1e-3);
    // Depth targets of 40x the size give the scaled trainer the plain one's BerHu on its own outputs' scale.
    const bigDepth = (b0: Batch): Batch => ({
      source: b0.source.map((c) => ({ ...c, depth: c.depth!.map((d) => (Math.abs(d - 1) < 1e-4 ? 1 : d * 40)) })),
      target: b0.target.map((c) => ({ ...c, depth: c.depth!.map((d) => (Math.abs(d - 1) < 1e-4 ? 1 : d * 40)) })),
    });
    const lossPlain = await plain.step(batch(), 0, new Rng(9));
    const lossScaled = await scaled.step(bigDepth(batch()), 0, new Rng(9));
    expect(lossScaled.sourceDepth).toBeCloseTo(lossPlain.sourceDepth, 3);
    tf.dispose([x, ...Object.values(a), ...Object.values(b)].filter((t): t is tf.Tensor => t !== null));
    plain.dispose();
    scaled.dispose();
  });
});

describe('restore', () => {
  it('refuses weights of another network layout instead of silently keeping random ones', async () => {
    const tiny = new Trainer(defaultConfig('dacs', 'tiny', { crop: { width: W, height: H } }));
    const snapshot = new Map((await tiny.snapshot()).map((t) => [t.name, t]));
    const other = new Trainer(defaultConfig('dacs', 'small', { crop: { width: W, height: H } }));
    expect(() => other.restore(snapshot)).toThrow(/do not fit the small network/);
    tiny.dispose();
    other.dispose();
  });

  it('starts a CorDA round from a DACS round: shared parameters carry over, the depth branch starts fresh', async () => {
    const dacs = new Trainer(defaultConfig('dacs', 'tiny', { crop: { width: W, height: H }, seed: 1 }));
    const snapshot = new Map((await dacs.snapshot()).map((t) => [t.name, t]));
    const corda = new Trainer(defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, seed: 2 }));
    expect(() => corda.restore(snapshot)).toThrow(/do not fit/);
    corda.restore(snapshot, true);
    const read = async (t: Trainer, name: string) => Array.from(await t.student.params.vars.get(name)!.data());
    expect(await read(corda, 'enc.stem.conv.w')).toEqual(await read(dacs, 'enc.stem.conv.w'));
    expect(await read(corda, 'head.seg_init.w')).toEqual(await read(dacs, 'head.seg_init.w'));
    expect(corda.student.params.vars.has('head.depth_src.w')).toBe(true);
    dacs.dispose();
    corda.dispose();
  });
});

describe('human corrections', () => {
  it('are trusted target labels: the student learns them where the pseudo-labels disagree', async () => {
    const share = async (corrected: boolean) => {
      const config = defaultConfig('dacs', 'tiny', { crop: { width: W, height: H }, iters: 30, seed: 5, sourceWarmup: 0 });
      const trainer = new Trainer(config);
      const random = new Rng(1);
      const target = [crop(4, 30), crop(12, 30)].map((c) => ({ ...c, labels: corrected ? new Uint8Array(W * H).fill(5) : null }));
      for (let i = 0; i < 30; i++) await trainer.step({ source: [crop(0, 0), crop(8, 0)], target }, i, random);
      const out = trainer.student.forward(tf.tensor4d(target[0]!.rgb, [1, H, W, 3]), { training: false });
      const labels = await tf.argMax(out.seg, -1).data();
      trainer.dispose();
      return Array.from(labels).filter((l) => l === 5).length / labels.length;
    };
    const without = await share(false);
    const withCorrections = await share(true);
    expect(without).toBeLessThan(0.05);
    expect(withCorrections).toBeGreaterThan(without + 0.2);
  });

  it('get a supervised loss of their own on the target crop, which falls as they are learnt; ignore marks alone add none', async () => {
    const config = defaultConfig('corda', 'tiny', { crop: { width: W, height: H }, iters: 10, seed: 3, sourceWarmup: 0 });
    const trainer = new Trainer(config);
    const random = new Rng(2);
    // The top rows corrected to class 5, the rest untouched; one crop marked ignore everywhere (HUMAN_IGNORE 254).
    const top = new Uint8Array(W * H).fill(255).fill(5, 0, W * 8);
    const target = [{ ...crop(4, 30), labels: top }, { ...crop(12, 30), labels: new Uint8Array(W * H).fill(254) }];
    const first = await trainer.step({ source: [crop(0, 0), crop(8, 0)], target }, 0, random);
    const tensors = tf.memory().numTensors;
    const losses = [first];
    for (let i = 1; i < 10; i++) losses.push(await trainer.step({ source: [crop(0, 0), crop(8, 0)], target }, i, random));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(first.correctedCe).toBeGreaterThan(0);
    expect(losses[9]!.correctedCe).toBeLessThan(first.correctedCe);
    // Only ignore marks (no class set): no supervised pass, nothing to learn there.
    const ignoredOnly = await trainer.step({ source: [crop(0, 0), crop(8, 0)], target: [target[1]!, target[1]!] }, 10, random);
    expect(ignoredOnly.correctedCe).toBe(0);
    trainer.dispose();
  });
});
