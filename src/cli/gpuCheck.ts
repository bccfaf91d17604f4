// The GPU check kit's program (`npm run gpu-kit` bundles it into one file that needs only node and dawn.node):
//   adapter      the WebGPU adapter Dawn finds, in full
//   loss-check   the same CorDA steps on wasm and on webgpu, both loss sequences and their largest relative difference
//   bench-engine `corda bench-engine`, for scripts/bench.mjs (CORDA_CLI points it here)
// Bad input gets one sentence and exit code 1 (2 for a usage mistake); a failed loss check exits 1.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../shared/api';
import { PARITY_LR, compareLosses, lossSequence } from '../core/adapt/lossParity';
import { describeAdapter } from '../core/model/gpuAdapter';
import { describeBackend, initBackend } from '../core/model/backend';
import { PRESETS, type PresetName } from '../core/model/network';
import { benchEngineCommand } from './benchEngine';

/**
 * Largest relative difference of the total loss allowed at any step. Measured here: wasm against SwiftShader stayed
 * within 2.1e-6 over 20 steps (lossParity.ts, PARITY_LR), so a GPU has 50x room for its own rounding; a wrong
 * kernel shows as 1e-2 or more.
 */
export const LOSS_RTOL = 1e-4;

class UsageError extends UserError {}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\.$/, '')}.`);
  }
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number ≥ 1, got "${value}".`);
  return n;
}

async function adapterCommand(args: string[]): Promise<void> {
  parse(args, {});
  const info = await initBackend('webgpu');
  const a = info.adapter!;
  console.log(`adapter: ${describeAdapter(a)}`);
  console.log(`adapter: vendor "${a.vendor}", architecture "${a.architecture}", device "${a.device}", description "${a.description}"`);
  if (a.software) console.log('adapter: this is a software rasteriser running on the CPU, not a GPU: its timings say nothing about GPU speed');
}

async function lossCheckCommand(args: string[]): Promise<boolean> {
  const { values } = parse(args, { preset: { type: 'string' }, crop: { type: 'string' }, batch: { type: 'string' }, steps: { type: 'string' }, seed: { type: 'string' } });
  const preset = (values.preset ?? 'tiny') as PresetName;
  if (!(preset in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got "${preset}".`);
  const crop = (values.crop ?? '256x128').match(/^(\d+)x(\d+)$/);
  if (!crop || Number(crop[1]) % 16 || Number(crop[2]) % 16 || Number(crop[1]) === 0 || Number(crop[2]) === 0) {
    throw new UsageError(`--crop looks like 256x128 (multiples of 16), got "${values.crop}".`);
  }
  const options = {
    preset,
    width: Number(crop[1]),
    height: Number(crop[2]),
    batch: positive(values.batch, 'batch', 2),
    steps: positive(values.steps, 'steps', 20),
    seed: positive(values.seed, 'seed', 1),
  };
  // WebGPU first: where it cannot start, the check stops before the wasm steps.
  const gpu = await lossSequence('webgpu', options);
  const wasm = await lossSequence('wasm', options);
  console.log(
    `loss check: ${preset} ${options.width}x${options.height}, batch ${options.batch}, ${options.steps} CorDA steps at learning rate ${PARITY_LR} from the same seeded weights, batches and random draws, ${describeBackend(wasm.backend)} against ${describeBackend(gpu.backend)}`,
  );
  console.log('loss check: step | wasm | webgpu | relative difference');
  wasm.losses.forEach((l, i) => {
    const g = gpu.losses[i]!;
    console.log(`loss check: ${String(i + 1).padStart(4)} | ${l.toPrecision(7)} | ${g.toPrecision(7)} | ${compareLosses([l], [g]).maxRelDiff.toExponential(1)}`);
  });
  const all = compareLosses(wasm.losses, gpu.losses);
  const pass = all.maxRelDiff <= LOSS_RTOL;
  console.log(`loss check: ${pass ? 'pass' : 'FAIL'}: max relative difference ${all.maxRelDiff.toExponential(1)} at step ${all.worstStep + 1} (tolerance ${LOSS_RTOL})`);
  return pass;
}

const helpers = { parse: (args: string[], options: Record<string, { type: 'string' | 'boolean' }>) => parse(args, options), usage: (message: string) => new UsageError(message) };

export async function gpuCheckMain(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'adapter':
        await adapterCommand(rest);
        return 0;
      case 'loss-check':
        return (await lossCheckCommand(rest)) ? 0 : 1;
      case 'bench-engine':
        await benchEngineCommand(rest, helpers);
        return 0;
      default:
        throw new UsageError(`unknown command "${command ?? ''}": the commands are adapter, loss-check and bench-engine.`);
    }
  } catch (error) {
    if (error instanceof UserError) {
      console.error(`gpu-check: ${error.message}`);
      return error instanceof UsageError ? 2 : 1;
    }
    console.error(`gpu-check: internal error: ${(error as Error).message}`);
    if (process.env.CORDA_DEBUG) console.error(error);
    return 1;
  }
}
