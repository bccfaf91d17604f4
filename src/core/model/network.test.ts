import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf';
import { initBackend } from './backend';
import { CordaNetwork, inputNormalisation, MOBILENETV2_BLOCKS, PRESETS } from './network';
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

describe('small preset: MobileNetV2 encoder with Keras layer names (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('has the Keras-named parameters with Keras shapes, through block_12 only', () => {
    const net = new CordaNetwork(PRESETS.small, 'dacs', 1).build();
    const shape = (name: string) => net.params.specs.get(name)?.shape;
    expect(shape('enc.Conv1.w')).toEqual([3, 3, 3, 32]);
    expect(net.params.specs.has('enc.Conv1.b')).toBe(false);
    for (const k of ['scale', 'offset', 'mean', 'var']) expect(shape(`enc.bn_Conv1.${k}`)).toEqual([32]);
    expect(shape('enc.expanded_conv_depthwise.dw')).toEqual([3, 3, 32, 1]);
    expect(shape('enc.expanded_conv_depthwise_BN.scale')).toEqual([32]);
    expect(shape('enc.expanded_conv_project.w')).toEqual([1, 1, 32, 16]);
    expect(shape('enc.expanded_conv_project_BN.var')).toEqual([16]);
    expect(net.params.specs.has('enc.expanded_conv_expand.w')).toBe(false);
    expect(shape('enc.block_1_expand.w')).toEqual([1, 1, 16, 96]);
    expect(shape('enc.block_1_expand_BN.mean')).toEqual([96]);
    expect(shape('enc.block_1_depthwise.dw')).toEqual([3, 3, 96, 1]);
    expect(shape('enc.block_1_project.w')).toEqual([1, 1, 96, 24]);
    expect(shape('enc.block_6_depthwise.dw')).toEqual([3, 3, 192, 1]);
    expect(shape('enc.block_10_project.w')).toEqual([1, 1, 384, 96]);
    expect(shape('enc.block_12_project.w')).toEqual([1, 1, 576, 96]);
    expect(shape('enc.block_12_project_BN.offset')).toEqual([96]);
    expect([...net.params.specs.keys()].some((n) => n.startsWith('enc.block_13'))).toBe(false);
    // Conv1 + bn_Conv1, then per block: [expand + BN] + depthwise + BN + project + BN (BN = 4 tensors).
    const encoder = [...net.params.specs.keys()].filter((n) => n.startsWith('enc.'));
    expect(encoder).toHaveLength(5 + 10 + 12 * 15);
    expect(encoder.every((n) => /^enc\.(Conv1|bn_Conv1|expanded_conv_|block_\d+_)/.test(n))).toBe(true);
    expect(MOBILENETV2_BLOCKS).toHaveLength(13);
    net.dispose();
  });

  it('feeds x / 127.5 - 1 and keeps the ImageNet normalisation for tiny (paper: the reference BGR input)', async () => {
    expect(inputNormalisation('small')).toBe(PRESETS.small.input);
    expect(PRESETS.small.input.mean).toEqual([0.5, 0.5, 0.5]);
    expect(PRESETS.small.input.std).toEqual([0.5, 0.5, 0.5]);
    expect(inputNormalisation('tiny').mean).toEqual([0.485, 0.456, 0.406]);
    expect(inputNormalisation(PRESETS.paper)).toMatchObject({ channels: 'bgr', range: 1, std: [1, 1, 1] });
    const net = new CordaNetwork(PRESETS.small, 'dacs', 1);
    const pixels = [0, 127.5, 255, 51];
    const x = tf.tensor4d(pixels.flatMap((v) => [v, v, v]), [1, 1, 4, 3]);
    const y = await net.normalise(x).data();
    const expected = pixels.flatMap((v) => [v / 127.5 - 1, v / 127.5 - 1, v / 127.5 - 1]);
    Array.from(y).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    x.dispose();
    net.dispose();
  });

  it('runs forward at output stride 16 with every head at the input size', () => {
    const net = new CordaNetwork(PRESETS.small, 'corda', 2).build();
    tf.tidy(() => {
      const x = tf.randomUniform([2, 48, 80, 3], 0, 255, 'float32', 4) as tf.Tensor4D;
      expect(net.features(x, { training: false }).shape).toEqual([2, 3, 5, 96]);
      // Odd sizes round up like Keras (ceil at every stride-2 layer).
      expect(net.features(tf.zeros([1, 33, 47, 3]) as tf.Tensor4D, { training: false }).shape).toEqual([1, 3, 3, 96]);
      const out = net.forward(x, { training: false });
      expect(out.seg.shape).toEqual([2, 48, 80, 19]);
      expect(out.segInit.shape).toEqual([2, 48, 80, 19]);
      for (const d of [out.depthSrc, out.depthTgt, out.depthSrcInit, out.depthTgtInit]) expect(d?.shape).toEqual([2, 48, 80, 1]);
    });
    expect(PRESETS.small.outputStride).toBe(16);
    net.dispose();
  });

  it("pads stride-2 3x3 'same' like Keras's ZeroPadding2D(correct_pad) + 'valid', for even and odd sizes", async () => {
    for (const [h, w] of [[8, 10], [7, 9], [8, 9]] as const) {
      const diffs = tf.tidy(() => {
        const x = tf.randomNormal([1, h, w, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
        const k = tf.randomNormal([3, 3, 4, 6], 0, 1, 'float32', 6) as tf.Tensor4D;
        const dw = tf.randomNormal([3, 3, 4, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
        // keras correct_pad: ((1 - adjust, 1), ...) with adjust = 1 - size % 2.
        const padded = tf.pad(x, [[0, 0], [h % 2, 1], [w % 2, 1], [0, 0]]);
        return [
          tf.max(tf.abs(tf.sub(tf.conv2d(x, k, 2, 'same'), tf.conv2d(padded, k, 2, 'valid')))),
          tf.max(tf.abs(tf.sub(tf.depthwiseConv2d(x, dw, 2, 'same'), tf.depthwiseConv2d(padded, dw, 2, 'valid')))),
        ];
      });
      for (const d of diffs) expect((await d.data())[0]).toBeLessThan(1e-5);
      tf.dispose(diffs);
    }
  });

  it('sends finite, non-zero gradients to every encoder parameter, depthwise filters included', async () => {
    const net = new CordaNetwork(PRESETS.small, 'dacs', 3).build();
    const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([2, 32, 32], 0, 19, 'int32', 2) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(() => {
      const out = net.forward(x, { training: true });
      return tf.add(crossEntropy(out.seg, y), crossEntropy(out.segInit, y)) as tf.Scalar;
    }, net.params.trainable());
    const byVar = new Map([...net.params.vars].map(([name, v]) => [v.name, name]));
    const named = new Map(Object.entries(grads).map(([k, g]) => [byVar.get(k)!, g]));
    const encoderTrainable = [...net.params.specs.values()].filter((s) => s.name.startsWith('enc.') && ['weight', 'bn-scale', 'bn-offset'].includes(s.kind));
    expect(encoderTrainable.filter((s) => s.name.endsWith('.dw'))).toHaveLength(13);
    for (const spec of encoderTrainable) expect(named.has(spec.name), spec.name).toBe(true);
    for (const name of encoderTrainable.filter((s) => s.name.endsWith('.dw')).map((s) => s.name)) {
      const g = named.get(name)!;
      expect(g.shape).toEqual(net.params.specs.get(name)!.shape);
      const values = await g.data();
      expect(values.every(Number.isFinite), name).toBe(true);
      expect(values.some((v) => v !== 0), name).toBe(true);
    }
    tf.dispose([value, x, y, ...Object.values(grads)]);
    net.dispose();
  });
});
