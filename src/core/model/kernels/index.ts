// The project's own TensorFlow.js kernels, registered over (or next to) the stock ones. Idempotent: a kernel
// already registered by us is left alone; a stock kernel we replace is kept as the fallback of ours.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { wasmConv2DBackpropFilterConfig } from './conv2dBackpropFilter';
import { makeWasmConv2DBackpropInputConfig } from './conv2dBackpropInput';
import {
  wasmDepthwiseConv2dNativeBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropInputConfig,
} from './depthwiseConv2dBackprop';
import { makeWasmTileConfig } from './tile';
import { makeWasmIdentityConfig } from './identity';
import { makeWasmBatchToSpaceNDConfig, makeWasmSpaceToBatchNDConfig } from './spaceToBatch';
import { cpuResizeBilinearGradConfig, makeWasmResizeBilinearGradConfig } from './resizeBilinearGrad';
import { BatchNormTraining, batchNormTrainingConfigs, batchNormTrainingGradConfig } from './batchNormTraining';
import { updateConfigs } from './update';
import { crossEntropyGradConfigs } from './crossEntropyGrad';

const OURS = Symbol.for('corda.kernel');

type Marked = KernelFunc & { [OURS]?: true };

// Stock kernel functions we replaced, by "backend/KernelName" (shared by every copy of this module).
const STOCK_KEY = Symbol.for('corda.stockKernels');
const globalStore = globalThis as unknown as { [STOCK_KEY]?: Map<string, KernelFunc> };
const stock = (globalStore[STOCK_KEY] ??= new Map<string, KernelFunc>());

/** The tfjs kernel function that registerProjectKernels replaced, if any (for tests and benchmarks). */
export function stockKernelFunc(kernelName: string, backendName: string): KernelFunc | undefined {
  return stock.get(`${backendName}/${kernelName}`);
}

function isOurs(config: KernelConfig | undefined): boolean {
  return Boolean(config && (config.kernelFunc as Marked)[OURS]);
}

/** Registers `make(stock)` for kernelName on backendName unless ours is already there. */
function install(kernelName: string, backendName: string, make: (stock: KernelFunc | undefined) => KernelConfig) {
  const existing = tf.getKernel(kernelName, backendName);
  if (isOurs(existing)) return false;
  const config = make(existing?.kernelFunc);
  (config.kernelFunc as Marked)[OURS] = true;
  if (existing) {
    stock.set(`${backendName}/${kernelName}`, existing.kernelFunc);
    tf.unregisterKernel(kernelName, backendName);
  }
  // Keep the stock setup/dispose hooks: the stock function may still run as the fallback.
  tf.registerKernel({
    ...config,
    setupFunc: config.setupFunc ?? existing?.setupFunc,
    disposeFunc: config.disposeFunc ?? existing?.disposeFunc,
  });
  return true;
}

/** Names of the kernels this module provides, as "backend/KernelName". */
export const PROJECT_KERNELS = [
  'wasm/Conv2DBackpropFilter',
  'wasm/Conv2DBackpropInput',
  'wasm/DepthwiseConv2dNativeBackpropFilter',
  'wasm/DepthwiseConv2dNativeBackpropInput',
  'wasm/ResizeBilinearGrad',
  'wasm/Tile',
  'wasm/Identity',
  'wasm/SpaceToBatchND',
  'wasm/BatchToSpaceND',
  'cpu/ResizeBilinearGrad',
  'wasm/CordaBatchNormTraining',
  'wasm/CordaBatchNormTrainingGrad',
  'cpu/CordaBatchNormTraining',
  'cpu/CordaBatchNormTrainingGrad',
  'wasm/CordaSgdMomentumStep',
  'wasm/CordaBlend',
  'cpu/CordaSgdMomentumStep',
  'cpu/CordaBlend',
  'wasm/CordaSoftmaxCrossEntropyGrad',
  'cpu/CordaSoftmaxCrossEntropyGrad',
  'wasm/CordaPickClass',
  'cpu/CordaPickClass',
] as const;

/** Registers the project's kernels for the wasm and cpu backends (before or after they are initialised). */
export function registerProjectKernels(): void {
  install('Conv2DBackpropFilter', 'wasm', () => wasmConv2DBackpropFilterConfig);
  install('Conv2DBackpropInput', 'wasm', makeWasmConv2DBackpropInputConfig);
  install('DepthwiseConv2dNativeBackpropFilter', 'wasm', () => wasmDepthwiseConv2dNativeBackpropFilterConfig);
  install('DepthwiseConv2dNativeBackpropInput', 'wasm', () => wasmDepthwiseConv2dNativeBackpropInputConfig);
  install('ResizeBilinearGrad', 'wasm', makeWasmResizeBilinearGradConfig);
  install('Tile', 'wasm', makeWasmTileConfig);
  install('Identity', 'wasm', makeWasmIdentityConfig);
  install('SpaceToBatchND', 'wasm', makeWasmSpaceToBatchNDConfig);
  install('BatchToSpaceND', 'wasm', makeWasmBatchToSpaceNDConfig);
  install('ResizeBilinearGrad', 'cpu', () => cpuResizeBilinearGradConfig);
  for (const backend of ['wasm', 'cpu']) {
    for (const config of [...batchNormTrainingConfigs(backend), ...updateConfigs(backend), ...crossEntropyGradConfigs(backend)]) install(config.kernelName, backend, () => config);
  }
  if (!tf.getGradient(BatchNormTraining)) tf.registerGradient(batchNormTrainingGradConfig);
}

/** True when every project kernel is registered (for diagnostics). */
export function projectKernelsRegistered(): boolean {
  return PROJECT_KERNELS.every((id) => {
    const [backend, kernel] = id.split('/') as [string, string];
    return isOurs(tf.getKernel(kernel, backend));
  });
}
