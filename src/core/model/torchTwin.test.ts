// The speed twin (scripts/corda_torch_net.py, which `npm run bench` times in PyTorch) is the engine's network:
// per preset and method, the same trainable parameter count, the same batch-norm statistics count and the same
// output shapes. `paper` is checked where its twin (scripts/deeplabv2_corda.py) is in the checkout.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf';
import { CordaNetwork, PRESETS, type Method, type PresetName } from './network';

const PYTHON = process.env.CORDA_TWIN_PYTHON ?? '/usr/bin/python3';
const SCRIPTS = join(__dirname, '..', '..', '..', 'scripts');
// Not multiples of the output stride: the encoders' odd feature sizes must round the same way.
const H = 40;
const W = 72;
const METHODS: Method[] = ['source-only', 'dacs', 'corda'];

const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true';
if (!hasTorch && !inCi) console.log(`torchTwin.test: skipping the speed-twin comparison: ${PYTHON} cannot import torch (install Debian's python3-torch).`);
const hasPaperTwin = existsSync(join(SCRIPTS, 'deeplabv2_corda.py'));
if (!hasPaperTwin) console.log('torchTwin.test: skipping `paper`: scripts/deeplabv2_corda.py (its twin) is not in this checkout yet.');

interface Description {
  trainable: number;
  /** Weights and batch-norm affines kept out of training (the `paper` backbone's batch norm). */
  frozen: number;
  bnStats: number;
  shapes: Record<string, number[] | null>;
}

function twinDescription(preset: PresetName, method: Method): Description {
  const run = spawnSync(PYTHON, [join(SCRIPTS, 'corda_torch_net.py'), 'describe', preset, method, String(H), String(W)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`corda_torch_net.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Description;
}

function engineDescription(preset: PresetName, method: Method): Description {
  const net = new CordaNetwork(PRESETS[preset], method, 1).build();
  try {
    let trainable = 0;
    let frozen = 0;
    let bnStats = 0;
    for (const spec of net.params.specs.values()) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      if (spec.kind === 'bn-mean' || spec.kind === 'bn-var') bnStats += size;
      else if (net.params.vars.get(spec.name)!.trainable) trainable += size;
      else frozen += size;
    }
    let shapes: Record<string, number[] | null> = {};
    tf.tidy(() => {
      const out = net.forward(tf.zeros([2, H, W, 3]) as tf.Tensor4D, { training: false });
      shapes = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v ? [...(v as tf.Tensor).shape] : null]));
    });
    return { trainable, frozen, bnStats, shapes };
  } finally {
    net.dispose();
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the PyTorch speed twin', () => {
  const presets: PresetName[] = hasPaperTwin ? ['tiny', 'small', 'paper'] : ['tiny', 'small'];
  for (const preset of presets) {
    // `paper` builds the same parameters for every method (its depth branch feeds S); one method keeps it ~30 s.
    for (const method of preset === 'paper' ? (['corda'] as Method[]) : METHODS) {
      it.skipIf(!hasTorch && !inCi)(`has the engine's parameter counts and output shapes: ${preset}, ${method}`, () => {
        const twin = twinDescription(preset, method);
        const engine = engineDescription(preset, method);
        expect(twin.trainable).toBe(engine.trainable);
        expect(twin.frozen).toBe(engine.frozen);
        expect(twin.bnStats).toBe(engine.bnStats);
        expect(twin.shapes).toEqual(engine.shapes);
      }, preset === 'paper' ? 300_000 : 60_000);
    }
  }
});
