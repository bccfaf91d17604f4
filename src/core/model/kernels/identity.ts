// wasm Identity that shares the input's buffer (one more reference) instead of copying it, as the cpu backend's and
// wasm's own Reshape do. tfjs clones every tensor it saves for backprop (each conv's input, each batch norm's input
// and statistics): about 740 copies per `tiny` training step on wasm, up to full activations. Tensor data is never
// written in place (kernels write fresh outputs; a variable's assign swaps its buffer), so sharing is safe.
import { Identity } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

type RefCounted = { incRef(dataId: object): void };

export function makeWasmIdentityConfig(stock: KernelFunc | undefined): KernelConfig {
  const kernelFunc = ((args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') {
      if (!stock) throw new Error('wasm Identity: string tensors need the stock kernel');
      return stock(args);
    }
    (args.backend as unknown as RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as KernelFunc;
  return { kernelName: Identity, backendName: 'wasm', kernelFunc };
}
