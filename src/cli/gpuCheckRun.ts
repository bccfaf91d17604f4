// Entry point of the GPU check kit's program (bundled by scripts/gpuKit/build.mjs into app/gpu-check.cjs).
// The engine loads tfjs-backend-webgpu lazily by name (src/core/model/webgpu.ts), which a bundle cannot follow: the
// bundle holds the package here, and the kit's node_modules/@tensorflow/tfjs-backend-webgpu hands this copy over.
import * as tfjsWebGpu from '@tensorflow/tfjs-backend-webgpu';
import { gpuCheckMain } from './gpuCheck';

(globalThis as { cordaKitTfjsWebGpu?: unknown }).cordaKitTfjsWebGpu = tfjsWebGpu;

void gpuCheckMain(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
