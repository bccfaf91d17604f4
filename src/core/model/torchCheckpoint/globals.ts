// The only Python globals a checkpoint may name: tensor and parameter rebuilders, storage types, dtypes and a
// few plain containers. Anything else is refused by name before a single value is built.
import { UserError } from '../../../shared/api';
import type { PyCallable, UnpickleHooks } from './pickle';
import { halfToFloat, isPendingTensor, type PendingTensor, type StorageRef } from './tensors';
import type { TorchDtype } from './values';

const STORAGE_DTYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32', HalfStorage: 'float16', BFloat16Storage: 'bfloat16', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', UntypedStorage: 'uint8',
};

const DTYPES: Record<string, TorchDtype> = {
  float32: 'float32', float: 'float32', float16: 'float16', half: 'float16', bfloat16: 'bfloat16', float64: 'float64',
  double: 'float64', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};

/** NumPy scalar type codes (`np.dtype('f8')`) and how to read one value of each. */
const NUMPY_SCALARS: Record<string, { bytes: number; read: (view: DataView, little: boolean) => number | bigint | boolean }> = {
  f8: { bytes: 8, read: (v, l) => v.getFloat64(0, l) },
  f4: { bytes: 4, read: (v, l) => v.getFloat32(0, l) },
  f2: { bytes: 2, read: (v, l) => halfToFloat(v.getUint16(0, l)) },
  i8: { bytes: 8, read: (v, l) => smallest(v.getBigInt64(0, l)) },
  u8: { bytes: 8, read: (v, l) => smallest(v.getBigUint64(0, l)) },
  i4: { bytes: 4, read: (v, l) => v.getInt32(0, l) },
  u4: { bytes: 4, read: (v, l) => v.getUint32(0, l) },
  i2: { bytes: 2, read: (v, l) => v.getInt16(0, l) },
  u2: { bytes: 2, read: (v, l) => v.getUint16(0, l) },
  i1: { bytes: 1, read: (v) => v.getInt8(0) },
  u1: { bytes: 1, read: (v) => v.getUint8(0) },
  b1: { bytes: 1, read: (v) => v.getUint8(0) !== 0 },
};

const smallest = (value: bigint): number | bigint => (Number.isSafeInteger(Number(value)) ? Number(value) : value);

/** `numpy.dtype(code, align, copy)`; its BUILD state says the byte order. */
interface NumpyDtype extends PyCallable {
  numpyCode: string;
  bigEndian: boolean;
}

const isNumpyDtype = (value: unknown): value is NumpyDtype =>
  typeof value === 'object' && value !== null && typeof (value as NumpyDtype).numpyCode === 'string';

/** A storage type or a dtype: a value persistent ids and `_rebuild_tensor_v3` pass around, never called. */
interface DtypeToken extends PyCallable {
  dtype: TorchDtype;
}

const isDtypeToken = (value: unknown): value is DtypeToken =>
  typeof value === 'object' && value !== null && (value as PyCallable).kind === 'callable' && typeof (value as DtypeToken).dtype === 'string';

export function refusalSentence(label: string, qualifiedName: string): string {
  if (/^torch\.nn\.modules\./.test(qualifiedName)) {
    return `"${label}" holds a whole pickled model ("${qualifiedName}") rather than its weights; save \`model.state_dict()\` with torch.save and load that instead.`;
  }
  return `"${label}" names a Python object "${qualifiedName}" that a weights file has no reason to contain; it was not loaded.`;
}

function damaged(label: string, what: string): UserError {
  return new UserError(`"${label}" is damaged: ${what}, so it was not loaded.`);
}

function intList(value: unknown, label: string, what: string): number[] {
  if (!Array.isArray(value) || !value.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
    throw damaged(label, `a tensor's ${what} is not a list of whole numbers`);
  }
  return value as number[];
}

/**
 * The unpickler's hooks for one file. `storages` collects every storage the pickle declares, by key, so the
 * reader can fetch their bytes afterwards.
 */
export function torchHooks(label: string, storages: Map<string, StorageRef>): UnpickleHooks {
  const fn = (qualifiedName: string, call: (args: unknown[]) => unknown): PyCallable => ({ kind: 'callable', qualifiedName, call });
  const notCallable = (qualifiedName: string) => () => {
    throw damaged(label, `it calls "${qualifiedName}" as a function`);
  };

  const pendingTensor = (storage: unknown, offset: unknown, size: unknown, stride: unknown, dtype?: TorchDtype): PendingTensor => {
    if (typeof storage !== 'object' || storage === null || (storage as StorageRef).kind !== 'storage') {
      throw damaged(label, 'a tensor is rebuilt from something that is not a storage');
    }
    const ref = storage as StorageRef;
    const shape = intList(size, label, 'size');
    const strides = intList(stride, label, 'stride');
    if (strides.length !== shape.length) throw damaged(label, "a tensor's strides do not match its dimensions");
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw damaged(label, "a tensor's storage offset is not a whole number");
    return { kind: 'pending-tensor', storage: ref, dtype: dtype ?? ref.dtype, offset, shape, stride: strides, parameter: false };
  };

  const allowed = new Map<string, PyCallable>([
    ['torch._utils._rebuild_tensor', fn('torch._utils._rebuild_tensor', ([s, o, size, stride]) => pendingTensor(s, o, size, stride))],
    ['torch._utils._rebuild_tensor_v2', fn('torch._utils._rebuild_tensor_v2', ([s, o, size, stride]) => pendingTensor(s, o, size, stride))],
    ['torch._utils._rebuild_tensor_v3', fn('torch._utils._rebuild_tensor_v3', ([s, o, size, stride, , , dtype]) => {
      if (!isDtypeToken(dtype)) throw damaged(label, 'a tensor names no dtype');
      return pendingTensor(s, o, size, stride, dtype.dtype);
    })],
    ...['_rebuild_parameter', '_rebuild_parameter_with_state'].map((name): [string, PyCallable] => [`torch._utils.${name}`, fn(`torch._utils.${name}`, ([data]) => {
      if (!isPendingTensor(data)) throw damaged(label, 'a parameter holds no tensor');
      return { ...data, parameter: true };
    })]),
    ['collections.OrderedDict', fn('collections.OrderedDict', ([items]) => {
      // Python 2 pickles an OrderedDict as OrderedDict([[key, value], ...]).
      const dict = new Map<unknown, unknown>();
      if (Array.isArray(items)) for (const pair of items) if (Array.isArray(pair) && pair.length === 2) dict.set(pair[0], pair[1]);
      return dict;
    })],
    ['torch.Size', fn('torch.Size', ([dims]) => (Array.isArray(dims) ? [...dims] : []))],
    ...['builtins', '__builtin__'].flatMap((module) => ['set', 'frozenset'].map((name): [string, PyCallable] => [`${module}.${name}`, fn(`${module}.${name}`, ([items]) => (Array.isArray(items) ? [...items] : []))])),
    // Protocol 2 writes Python 3 bytes as _codecs.encode(text, 'latin1').
    ['_codecs.encode', fn('_codecs.encode', ([text, encoding]) => {
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) throw damaged(label, 'it encodes bytes in an unexpected way');
      return Uint8Array.from(text, (c) => c.charCodeAt(0));
    })],
    // Training scripts often keep a NumPy number (a best score, a step) beside the weights.
    ['numpy.dtype', fn('numpy.dtype', ([code]) => {
      const dtype: NumpyDtype = { kind: 'callable', qualifiedName: 'numpy.dtype', call: notCallable('numpy.dtype'), numpyCode: String(code), bigEndian: false };
      return dtype;
    })],
    ...['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'].map((name): [string, PyCallable] => [name, fn(name, ([dtype, raw]) => {
      if (!isNumpyDtype(dtype) || !(raw instanceof Uint8Array)) throw damaged(label, 'a NumPy number has no type or value');
      const scalar = NUMPY_SCALARS[dtype.numpyCode];
      if (!scalar) throw new UserError(`"${label}" holds a NumPy value of type "${dtype.numpyCode}", which this reader does not handle, so it was not loaded.`);
      if (raw.length < scalar.bytes) throw damaged(label, 'a NumPy number is cut short');
      return scalar.read(new DataView(raw.buffer, raw.byteOffset, scalar.bytes), !dtype.bigEndian);
    })]),
  ]);
  for (const module of ['torch', 'torch.cuda']) {
    for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
      allowed.set(`${module}.${name}`, { kind: 'callable', qualifiedName: `${module}.${name}`, call: notCallable(`${module}.${name}`), dtype } as DtypeToken);
    }
  }
  for (const [name, dtype] of Object.entries(DTYPES)) {
    allowed.set(`torch.${name}`, { kind: 'callable', qualifiedName: `torch.${name}`, call: notCallable(`torch.${name}`), dtype } as DtypeToken);
  }

  return {
    build(target, state) {
      if (isNumpyDtype(target) && Array.isArray(state) && state[1] === '>') target.bigEndian = true;
      return target;
    },
    findGlobal(module, name) {
      const qualifiedName = `${module}.${name}`;
      const found = allowed.get(qualifiedName);
      if (!found) throw new UserError(refusalSentence(label, qualifiedName));
      return found;
    },
    persistentLoad(id) {
      // Zip format: ('storage', type, key, location, numel); legacy adds view metadata (view key, offset, size).
      if (!Array.isArray(id) || id[0] !== 'storage') {
        if (Array.isArray(id) && id[0] === 'module') throw new UserError(refusalSentence(label, 'torch.nn.modules (pickled source code)'));
        throw damaged(label, 'it refers to an outside object that is not a storage');
      }
      const [, type, key, , numel, view] = id as unknown[];
      if (!isDtypeToken(type)) throw damaged(label, 'a storage names no storage type');
      if ((typeof key !== 'string' && typeof key !== 'number') || typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) {
        throw damaged(label, 'a storage has no key or size');
      }
      const rootKey = String(key);
      const root = storages.get(rootKey) ?? { kind: 'storage' as const, key: rootKey, dtype: type.dtype, numel, viewOffset: 0 };
      storages.set(rootKey, root);
      if (Array.isArray(view)) {
        const [, offset, size] = view as unknown[];
        if (typeof offset !== 'number' || typeof size !== 'number') throw damaged(label, 'a storage view has no offset or size');
        return { kind: 'storage', key: rootKey, dtype: type.dtype, numel: size, viewOffset: offset } satisfies StorageRef;
      }
      return root;
    },
  };
}
