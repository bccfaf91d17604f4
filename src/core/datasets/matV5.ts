// A small reader for MATLAB v5 MAT-files (MATLAB's save -v6/-v7, scipy.io.savemat): one named numeric variable's
// real part, compressed or not, little- or big-endian, returned in row-major order. Anything else (cells, structs,
// strings, sparse or complex arrays, 64-bit integers, MATLAB 7.3 HDF5 files) is refused with one sentence.
// Format facts: MathWorks, "MAT-File Format" (matfile_format.pdf), chapter 1.
import { inflateSync } from 'node:zlib';
import { UserError } from '../../shared/api';
import { MAT_HEADER_BYTES, parseMatHeader } from './matHeader';

export type MatNumericArray = Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export interface MatArray {
  name: string;
  /** MATLAB's class of the variable: 'double', 'single', 'uint16', … ('uint8' also for logical arrays). */
  className: string;
  /** The shape as MATLAB states it: rows, columns, then any further dimensions. */
  dims: number[];
  /** Values in row-major order (the last dimension varies fastest), in an array of the variable's class. */
  data: MatNumericArray;
}

// Data types (miXXX) of data elements.
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_UINT32 = 6;
const MI_INT32 = 5;
const MI_INT8 = 1;

type Getter = (view: DataView, offset: number, littleEndian: boolean) => number;

/** Storage types a numeric array's values may be written in, by miXXX number. */
const STORED: Record<number, { bytes: number; get: Getter }> = {
  1: { bytes: 1, get: (v, o) => v.getInt8(o) },
  2: { bytes: 1, get: (v, o) => v.getUint8(o) },
  3: { bytes: 2, get: (v, o, le) => v.getInt16(o, le) },
  4: { bytes: 2, get: (v, o, le) => v.getUint16(o, le) },
  5: { bytes: 4, get: (v, o, le) => v.getInt32(o, le) },
  6: { bytes: 4, get: (v, o, le) => v.getUint32(o, le) },
  7: { bytes: 4, get: (v, o, le) => v.getFloat32(o, le) },
  9: { bytes: 8, get: (v, o, le) => v.getFloat64(o, le) },
};

/** Numeric array classes (mxXXX_CLASS number) → name and the typed array holding them. */
const NUMERIC_CLASSES: Record<number, { name: string; make: (n: number) => MatNumericArray }> = {
  6: { name: 'double', make: (n) => new Float64Array(n) },
  7: { name: 'single', make: (n) => new Float32Array(n) },
  8: { name: 'int8', make: (n) => new Int8Array(n) },
  9: { name: 'uint8', make: (n) => new Uint8Array(n) },
  10: { name: 'int16', make: (n) => new Int16Array(n) },
  11: { name: 'uint16', make: (n) => new Uint16Array(n) },
  12: { name: 'int32', make: (n) => new Int32Array(n) },
  13: { name: 'uint32', make: (n) => new Uint32Array(n) },
};

const OTHER_CLASSES: Record<number, string> = {
  1: 'a cell array',
  2: 'a struct',
  3: 'an object',
  4: 'a character array',
  5: 'a sparse matrix',
  14: 'a 64-bit integer array',
  15: 'a 64-bit integer array',
  16: 'a function handle',
  17: 'an opaque object',
};

interface Element {
  type: number;
  /** Where the element's data starts and ends in the buffer. */
  start: number;
  end: number;
  /** Where the next element's tag starts. */
  next: number;
}

class Reader {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  damaged(what: string): never {
    throw new UserError(`${this.file} is truncated or damaged: ${what}.`);
  }

  /** The data element whose tag starts at `offset` (the small format packs type, size and data in 8 bytes). */
  element(offset: number, end = this.bytes.length): Element {
    if (offset + 8 > end) this.damaged(`a data element's tag at byte ${offset} runs past the end`);
    const first = this.view.getUint32(offset, this.littleEndian);
    if (first >>> 16 !== 0) {
      const size = first >>> 16;
      if (size > 4) this.damaged(`a small data element at byte ${offset} claims ${size} bytes`);
      return { type: first & 0xffff, start: offset + 4, end: offset + 4 + size, next: offset + 8 };
    }
    const size = this.view.getUint32(offset + 4, this.littleEndian);
    const start = offset + 8;
    if (start + size > end) this.damaged(`a data element at byte ${offset} needs ${size} bytes but ${end - start} remain`);
    // Compressed elements are not padded; every other element is padded to a multiple of 8 bytes.
    const next = first === MI_COMPRESSED ? start + size : Math.min(end, start + Math.ceil(size / 8) * 8);
    return { type: first, start, end: start + size, next };
  }
}

interface MatrixHeader {
  classNumber: number;
  complex: boolean;
  dims: number[];
  name: string;
  /** Where the real part's tag starts. */
  next: number;
}

function matrixHeader(r: Reader, matrix: Element): MatrixHeader {
  const flags = r.element(matrix.start, matrix.end);
  if (flags.type !== MI_UINT32 || flags.end - flags.start !== 8) r.damaged('an array lacks its array-flags element');
  const word = r.view.getUint32(flags.start, r.littleEndian);
  const dimsElement = r.element(flags.next, matrix.end);
  if (dimsElement.type !== MI_INT32 || (dimsElement.end - dimsElement.start) % 4 !== 0) r.damaged('an array lacks its dimensions element');
  const dims: number[] = [];
  for (let at = dimsElement.start; at < dimsElement.end; at += 4) dims.push(r.view.getInt32(at, r.littleEndian));
  if (dims.length < 2 || dims.some((d) => d < 0)) r.damaged(`an array has dimensions [${dims.join(', ')}]`);
  const nameElement = r.element(dimsElement.next, matrix.end);
  if (nameElement.type !== MI_INT8) r.damaged('an array lacks its name element');
  const name = Buffer.from(r.bytes.buffer, r.bytes.byteOffset + nameElement.start, nameElement.end - nameElement.start).toString('latin1');
  return { classNumber: word & 0xff, complex: (word & 0x0800) !== 0, dims, name, next: nameElement.next };
}

/** Column-major (MATLAB) index → row-major index, for any number of dimensions. */
function toRowMajor<T extends MatNumericArray>(columnMajor: T, dims: number[], out: T): T {
  if (dims.length === 2) {
    const [rows, cols] = dims as [number, number];
    for (let c = 0; c < cols; c++) for (let row = 0; row < rows; row++) out[row * cols + c] = columnMajor[c * rows + row]!;
    return out;
  }
  const rowMajorStrides = dims.map((_, k) => dims.slice(k + 1).reduce((a, b) => a * b, 1));
  const index = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < columnMajor.length; i++) {
    let target = 0;
    for (let k = 0; k < dims.length; k++) target += index[k]! * rowMajorStrides[k]!;
    out[target] = columnMajor[i]!;
    for (let k = 0; k < dims.length && ++index[k]! === dims[k]; k++) index[k] = 0;
  }
  return out;
}

function readNumeric(r: Reader, matrix: Element, header: MatrixHeader, variable: string): MatArray {
  const kind = NUMERIC_CLASSES[header.classNumber];
  if (!kind) {
    const what = OTHER_CLASSES[header.classNumber] ?? `an array of unknown class ${header.classNumber}`;
    throw new UserError(`${r.file}: the variable "${variable}" is ${what}; only real numeric arrays (double, single, 8- to 32-bit integers) are read.`);
  }
  if (header.complex) throw new UserError(`${r.file}: the variable "${variable}" holds complex numbers; only real arrays are read.`);
  const count = header.dims.reduce((a, b) => a * b, 1);
  const real = r.element(header.next, matrix.end);
  const stored = STORED[real.type];
  if (!stored) r.damaged(`the values of "${variable}" are stored as unknown data type ${real.type}`);
  if (real.end - real.start !== count * stored.bytes) {
    r.damaged(`"${variable}" is ${header.dims.join('x')} but holds ${(real.end - real.start) / stored.bytes} values`);
  }
  const columnMajor = kind.make(count);
  for (let i = 0; i < count; i++) columnMajor[i] = stored.get(r.view, real.start + i * stored.bytes, r.littleEndian);
  return { name: header.name, className: kind.name, dims: header.dims, data: toRowMajor(columnMajor, header.dims, kind.make(count)) };
}

/** No variable the workbench reads comes near this (a 2048x1024 double map is 16 MiB); a zip bomb would. */
const MAX_INFLATED_BYTES = 1 << 30;

function inflate(r: Reader, compressed: Uint8Array): Uint8Array {
  try {
    return inflateSync(compressed, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    if (error instanceof RangeError) throw new UserError(`${r.file} holds a compressed variable larger than ${MAX_INFLATED_BYTES / 2 ** 30} GiB, which the workbench does not read.`);
    return r.damaged(`a compressed variable does not decompress (${(error as Error).message})`);
  }
}

/**
 * Reads the variable `variable` of a MATLAB v5 MAT-file's bytes. `file` names the file in error sentences.
 * Throws a UserError (one sentence) when the file is not such a file, is damaged, lacks the variable, or the
 * variable is not a real numeric array.
 */
export function readMatVariable(bytes: Uint8Array, variable: string, file = 'the MAT-file'): MatArray {
  const { littleEndian } = parseMatHeader(bytes, file);
  const outer = new Reader(bytes, littleEndian, file);
  const seen: string[] = [];
  for (let offset = MAT_HEADER_BYTES; offset < bytes.length; ) {
    let element = outer.element(offset);
    offset = element.next;
    let reader = outer;
    if (element.type === MI_COMPRESSED) {
      reader = new Reader(inflate(outer, bytes.subarray(element.start, element.end)), littleEndian, file);
      element = reader.element(0);
    }
    if (element.type !== MI_MATRIX) continue; // e.g. a lone miUTF8 element: not a variable
    const header = matrixHeader(reader, element);
    if (header.name === variable) return readNumeric(reader, element, header, variable);
    seen.push(header.name);
  }
  const holds = seen.length ? `it holds ${seen.map((n) => `"${n}"`).join(', ')}` : 'it holds no variables';
  throw new UserError(`${file} has no variable "${variable}": ${holds}.`);
}
