// Test fixture: MATLAB v5 MAT-files written by hand, in either byte order, compressed or not, with values stored in
// any numeric type (what MATLAB does and scipy.io.savemat never does), and a depth map as CorDA's depth/ holds it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { deflateSync } from 'node:zlib';

export interface MatVariable {
  name: string;
  classNumber: number;
  dims: number[];
  /** miXXX type the values are stored as, and the values in column-major order. */
  storedType: number;
  values: number[];
  complex?: boolean;
}

const STORED_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8 };

export class MatWriter {
  private parts: Buffer[] = [];
  constructor(private readonly littleEndian: boolean) {}

  private u32(...values: number[]): Buffer {
    const b = Buffer.alloc(4 * values.length);
    values.forEach((v, i) => (this.littleEndian ? b.writeUInt32LE(v, 4 * i) : b.writeUInt32BE(v, 4 * i)));
    return b;
  }

  /** One data element; data of 4 bytes or fewer in the small format when `small`. */
  element(type: number, data: Buffer, small = false): Buffer {
    if (small && data.length <= 4) return Buffer.concat([this.u32((data.length << 16) | type), data, Buffer.alloc(4 - data.length)]);
    return Buffer.concat([this.u32(type, data.length), data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
  }

  values(type: number, values: number[]): Buffer {
    const size = STORED_BYTES[type]!;
    const b = Buffer.alloc(size * values.length);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const le = this.littleEndian;
    values.forEach((v, i) => {
      const at = i * size;
      if (type === 1) view.setInt8(at, v);
      else if (type === 2) view.setUint8(at, v);
      else if (type === 3) view.setInt16(at, v, le);
      else if (type === 4) view.setUint16(at, v, le);
      else if (type === 5) view.setInt32(at, v, le);
      else if (type === 6) view.setUint32(at, v, le);
      else if (type === 7) view.setFloat32(at, v, le);
      else view.setFloat64(at, v, le);
    });
    return b;
  }

  matrix(v: MatVariable): Buffer {
    const flags = this.u32(v.classNumber | (v.complex ? 0x0800 : 0), 0);
    const dims = this.values(5, v.dims);
    const body = [this.element(6, flags), this.element(5, dims), this.element(1, Buffer.from(v.name, 'latin1'), true)];
    body.push(this.element(v.storedType, this.values(v.storedType, v.values), true));
    if (v.complex) body.push(this.element(v.storedType, this.values(v.storedType, v.values.map(() => 0))));
    return this.element(14, Buffer.concat(body));
  }

  add(v: MatVariable, compressed = false): this {
    const matrix = this.matrix(v);
    this.parts.push(compressed ? Buffer.concat([this.u32(15, deflateSync(matrix).length), deflateSync(matrix)]) : matrix);
    return this;
  }

  bytes(version = 0x0100): Buffer {
    const header = Buffer.alloc(128, ' ');
    header.write('MATLAB 5.0 MAT-file, written by a test', 0, 'latin1');
    header.fill(0, 116, 124);
    if (this.littleEndian) header.writeUInt16LE(version, 124);
    else header.writeUInt16BE(version, 124);
    header.write(this.littleEndian ? 'IM' : 'MI', 126, 'latin1');
    return Buffer.concat([header, ...this.parts]);
  }
}

/** Writes `depth_map` (metres, row-major `height` x `width`) as SFSU's depth_stereoscopic.mat files hold it. */
export function writeDepthMat(path: string, width: number, height: number, metres: (row: number, col: number) => number, compressed = true): void {
  const values: number[] = [];
  for (let col = 0; col < width; col++) for (let row = 0; row < height; row++) values.push(metres(row, col));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, new MatWriter(true).add({ name: 'depth_map', classNumber: 6, dims: [height, width], storedType: 9, values }, compressed).bytes());
}
