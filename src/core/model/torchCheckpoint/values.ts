// The Python values a checkpoint can hold once unpickled: plain containers and tensors, nothing else.

export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A tensor as stored: its values in row-major order of `shape` (strides already applied). */
export interface TorchTensor {
  readonly kind: 'tensor';
  /** The dtype in the file; half, bfloat16 and double come back widened (or narrowed) to float32. */
  dtype: TorchDtype;
  shape: number[];
  /** The strides and storage offset the file declared, in elements (for the record; `data` is contiguous). */
  stride: number[];
  offset: number;
  data: Float32Array | Int32Array | BigInt64Array;
  /** Saved as an `nn.Parameter` rather than a plain tensor (a buffer). */
  parameter: boolean;
}

/** A Python dict or OrderedDict, in insertion order; keys keep their type (optimizer states use int keys). */
export type PyDict = Map<PyKey, PyValue>;
export type PyKey = string | number | bigint | boolean | null;
export type PyValue = PyKey | PyValue[] | PyDict | Uint8Array | TorchTensor;

export function isTensor(value: unknown): value is TorchTensor {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'tensor';
}

export function isDict(value: unknown): value is PyDict {
  return value instanceof Map;
}
