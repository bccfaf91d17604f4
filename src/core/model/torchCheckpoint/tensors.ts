// Tensor storage: the dtypes torch.save writes, and turning (storage bytes, offset, size, stride) into a
// contiguous typed array of the values in row-major order.
import { UserError } from '../../../shared/api';
import type { TorchDtype, TorchTensor } from './values';

/** 2^30 values (4 GiB as float32): beyond any single weight tensor, and beyond what one typed array should hold. */
const MAX_TENSOR_VALUES = 2 ** 30;

export const ELEMENT_BYTES: Record<TorchDtype, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** A storage a tensor points into, as the pickle declares it; its bytes are found by `key` afterwards. */
export interface StorageRef {
  readonly kind: 'storage';
  key: string;
  dtype: TorchDtype;
  /** Elements of `dtype` the storage holds. */
  numel: number;
  /** Elements of `dtype` before this view begins inside the stored storage (legacy storage views). */
  viewOffset: number;
}

/** A tensor whose storage bytes may not have been read yet (the legacy format stores them after the pickle). */
export interface PendingTensor {
  readonly kind: 'pending-tensor';
  storage: StorageRef;
  dtype: TorchDtype;
  offset: number;
  shape: number[];
  stride: number[];
  parameter: boolean;
}

export function isPendingTensor(value: unknown): value is PendingTensor {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'pending-tensor';
}

export const halfToFloat = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
};

const widened = new DataView(new ArrayBuffer(4));

type Reader = (view: DataView, byte: number) => number | bigint;

const READERS: Record<TorchDtype, Reader> = {
  float32: (v, b) => v.getFloat32(b, true),
  float64: (v, b) => v.getFloat64(b, true),
  float16: (v, b) => halfToFloat(v.getUint16(b, true)),
  // bfloat16 is the top half of a float32.
  bfloat16: (v, b) => {
    widened.setUint32(0, v.getUint16(b, true) << 16, true);
    return widened.getFloat32(0, true);
  },
  int64: (v, b) => v.getBigInt64(b, true),
  int32: (v, b) => v.getInt32(b, true),
  int16: (v, b) => v.getInt16(b, true),
  int8: (v, b) => v.getInt8(b),
  uint8: (v, b) => v.getUint8(b),
  bool: (v, b) => (v.getUint8(b) ? 1 : 0),
};

function outputArray(dtype: TorchDtype, length: number): Float32Array | Int32Array | BigInt64Array {
  if (dtype === 'int64') return new BigInt64Array(length);
  if (dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float64') return new Float32Array(length);
  return new Int32Array(length);
}

/**
 * The tensor's values, contiguous. `bytes` is the whole stored storage; the tensor's offset and strides are in
 * elements of its dtype, after the storage view's own offset.
 */
export function materialise(pending: PendingTensor, bytes: Uint8Array, label: string): TorchTensor {
  const { dtype, shape, stride } = pending;
  const elementBytes = ELEMENT_BYTES[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count > MAX_TENSOR_VALUES) {
    throw new UserError(`"${label}" declares a tensor of shape [${shape.join(', ')}], more values than a checkpoint this reader can hold, so it was not loaded.`);
  }
  const base = pending.storage.viewOffset * ELEMENT_BYTES[pending.storage.dtype] + pending.offset * elementBytes;
  if (count > 0) {
    let last = 0;
    shape.forEach((n, i) => (last += (n - 1) * stride[i]!));
    const negativeStride = stride.some((s) => s < 0);
    if (negativeStride || base + (last + 1) * elementBytes > bytes.length) {
      throw new UserError(`"${label}" declares a tensor of shape [${shape.join(', ')}] that reaches past the end of its storage; the file is damaged, so it was not loaded.`);
    }
  }
  const data = outputArray(dtype, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const contiguous = shape.every((_, i) => shape[i] === 1 || stride[i] === shape.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous && dtype === 'float32' && count > 0) {
    new Uint8Array(data.buffer).set(bytes.subarray(base, base + count * 4));
    return { kind: 'tensor', dtype, shape, stride, offset: pending.offset, data, parameter: pending.parameter };
  }
  const read = READERS[dtype];
  const index = new Array<number>(shape.length).fill(0);
  let byte = base;
  for (let i = 0; i < count; i++) {
    (data as unknown as (number | bigint)[])[i] = read(view, byte);
    // Odometer over the shape, moving `byte` by the strides.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      byte += stride[d]! * elementBytes;
      if (index[d]! < shape[d]!) break;
      byte -= shape[d]! * stride[d]! * elementBytes;
      index[d] = 0;
    }
  }
  return { kind: 'tensor', dtype, shape, stride, offset: pending.offset, data, parameter: pending.parameter };
}
