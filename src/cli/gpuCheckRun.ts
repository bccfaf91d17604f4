// Entry point of the GPU check kit's program (bundled by scripts/gpuKit/build.mjs into app/gpu-check.cjs).
import { gpuCheckMain } from './gpuCheck';

void gpuCheckMain(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
