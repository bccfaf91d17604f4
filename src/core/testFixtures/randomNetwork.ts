// A network whose batch-norm statistics, scales, offsets and biases are random too (a freshly built one has
// zeros and ones there, which would hide a mistake in how they are folded or applied). Seeded: the same every run.
import { CordaNetwork, PRESETS, type Method, type PresetName } from '../model/network';
import * as tf from '../model/tf';

export function randomNetwork(preset: PresetName, method: Method, depthScale = 1): CordaNetwork {
  const net = new CordaNetwork(PRESETS[preset], method, 5, depthScale).build();
  let seed = 11;
  for (const [name, v] of net.params.vars) {
    const kind = net.params.specs.get(name)!.kind;
    if (kind === 'weight') continue;
    const [lo, hi] = kind === 'bn-var' || kind === 'bn-scale' ? [0.5, 1.5] : [-0.3, 0.3];
    v.assign(tf.randomUniform(v.shape, lo, hi, 'float32', seed++));
  }
  return net;
}
