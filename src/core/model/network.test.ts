import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf';
import { CordaNetwork, PRESETS } from './network';
import { crossEntropy, berHu } from '../adapt/losses';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('CordaNetwork', () => {
  it('produces every head at the input size for corda, and no depth heads for dacs', () => {
    const net = new CordaNetwork(PRESETS.tiny, 'corda', 1).build();
    const out = net.forward(tf.zeros([2, 32, 48, 3]) as tf.Tensor4D, { training: false });
    expect(out.seg.shape).toEqual([2, 32, 48, 19]);
    expect(out.segInit.shape).toEqual([2, 32, 48, 19]);
    for (const d of [out.depthSrc, out.depthTgt, out.depthSrcInit, out.depthTgtInit]) expect(d?.shape).toEqual([2, 32, 48, 1]);
    const dacs = new CordaNetwork(PRESETS.tiny, 'dacs', 1).build();
    const plain = dacs.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, { training: false });
    expect(plain.depthSrc).toBeNull();
    expect(dacs.params.vars.size).toBeLessThan(net.params.vars.size);
    expect([...net.params.specs.keys()]).toContain('distil.to_sem.gate.w');
    net.dispose();
    dacs.dispose();
  });

  it('initialises deterministically from the seed', async () => {
    const a = new CordaNetwork(PRESETS.tiny, 'corda', 7).build();
    const b = new CordaNetwork(PRESETS.tiny, 'corda', 7).build();
    const c = new CordaNetwork(PRESETS.tiny, 'corda', 8).build();
    const w = (n: CordaNetwork) => n.params.vars.get('enc.stem.conv.w')!.data();
    expect(Array.from(await w(a))).toEqual(Array.from(await w(b)));
    expect(Array.from(await w(a))).not.toEqual(Array.from(await w(c)));
    [a, b, c].forEach((n) => n.dispose());
  });

  it('sends a gradient to every trainable parameter from the CorDA source loss', () => {
    const net = new CordaNetwork(PRESETS.tiny, 'corda', 3).build();
    const x = tf.randomUniform([1, 32, 32, 3], 0, 255, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([1, 32, 32], 0, 19, 'int32', 2) as tf.Tensor3D;
    const d = tf.randomUniform([1, 32, 32, 1], 2, 50, 'float32', 3);
    const { grads } = tf.variableGrads(() => {
      const out = net.forward(x, { training: true });
      return tf.addN([crossEntropy(out.seg, y), crossEntropy(out.segInit, y), tf.mul(0.01, berHu(out.depthSrc!, d)), tf.mul(0.01, berHu(out.depthSrcInit!, d))]) as tf.Scalar;
    }, net.params.trainable());
    const names = new Map([...net.params.vars].map(([name, v]) => [v.name, name]));
    const withGrad = Object.keys(grads).map((k) => names.get(k));
    // The target depth heads get no gradient from a source-only loss; everything else does.
    const expectedMissing = [...net.params.specs.values()].filter((s) => s.name.includes('depth_tgt') && (s.kind === 'weight' || s.kind === 'bias')).map((s) => s.name);
    const trainableNames = [...net.params.specs.values()].filter((s) => ['weight', 'bias', 'bn-scale', 'bn-offset'].includes(s.kind)).map((s) => s.name);
    expect(expectedMissing).toHaveLength(4);
    expect(new Set(withGrad)).toEqual(new Set(trainableNames.filter((n) => !expectedMissing.includes(n))));
    net.dispose();
  });
});
