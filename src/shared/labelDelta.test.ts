import { describe, expect, it } from 'vitest';
import { MAX_DELTA_CHARS, MAX_IMAGE_PIXELS } from './api';
import { applyDelta, base64ToBytes, bytesToBase64, decodeDelta, deltaFromIndices, encodeDelta } from './labelDelta';

/** Byte equality of big typed arrays (toEqual walks them element by element, seconds per million). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function sameDelta(a: { runs: Uint32Array; labels: Uint8Array; human: Uint8Array }, b: typeof a): boolean {
  return sameBytes(a.runs, b.runs) && sameBytes(a.labels, b.labels) && sameBytes(a.human, b.human);
}

describe('label deltas', () => {
  const planes = () => ({ labels: new Uint8Array([0, 0, 1, 1, 2, 2, 255, 255]), human: new Uint8Array(8) });

  it('merges consecutive indices into runs and round-trips through bytes and base64', () => {
    const delta = deltaFromIndices([1, 2, 3, 6], (i) => (i === 6 ? 255 : 5), () => 1);
    expect(Array.from(delta.runs)).toEqual([1, 3, 6, 1]);
    const decoded = decodeDelta(base64ToBytes(bytesToBase64(encodeDelta(delta))), 8);
    expect(Array.from(decoded.runs)).toEqual([1, 3, 6, 1]);
    expect(Array.from(decoded.labels)).toEqual([5, 5, 5, 255]);
    expect(Array.from(decoded.human)).toEqual([1, 1, 1, 1]);
  });

  it('writes standard base64 for every padding case', () => {
    const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(['', 'M', 'Ma', 'Man', 'Many'].map((t) => bytesToBase64(ascii(t)))).toEqual(['', 'TQ==', 'TWE=', 'TWFu', 'TWFueQ==']);
    expect(bytesToBase64(Uint8Array.from([0xfb, 0xff, 0xbf]))).toBe('+/+/');
    for (let n = 0; n < 8; n++) {
      const bytes = Uint8Array.from({ length: n * 7 + (n % 3) }, (_, i) => (i * 37 + n) & 255);
      expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
      expect(bytesToBase64(bytes)).toBe(btoa(String.fromCharCode(...bytes)));
    }
  });

  it('applies a delta and its returned inverse restores the planes exactly', () => {
    const p = planes();
    const original = { labels: p.labels.slice(), human: p.human.slice() };
    const inverse = applyDelta(p, deltaFromIndices([0, 4, 5], () => 7, () => 1));
    expect(Array.from(p.labels)).toEqual([7, 0, 1, 1, 7, 7, 255, 255]);
    expect(Array.from(p.human)).toEqual([1, 0, 0, 0, 1, 1, 0, 0]);
    applyDelta(p, inverse);
    expect(p).toEqual(original);
  });

  it('refuses class ids outside the palette, runs outside the image and truncated bytes', () => {
    const bytes = encodeDelta(deltaFromIndices([0], () => 19, () => 1));
    expect(() => decodeDelta(bytes, 8)).toThrow(/class id 19/);
    expect(() => decodeDelta(encodeDelta(deltaFromIndices([8], () => 1, () => 1)), 8)).toThrow(/outside the image/);
    expect(() => decodeDelta(encodeDelta(deltaFromIndices([1, 2], () => 1, () => 1)).slice(0, -1), 8)).toThrow(/truncated|wrong length/);
    expect(() => decodeDelta(new Uint8Array([1, 2, 3]), 8)).toThrow(/unknown format/);
    expect(() => base64ToBytes('***')).toThrow(/not base64/);
  });

  it('sends a fill of a whole 2048x1024 image in a few bytes, and its noisy inverse in about a byte a pixel', () => {
    const n = 2048 * 1024;
    const fill = { runs: Uint32Array.from([0, n]), labels: new Uint8Array(n).fill(13), human: new Uint8Array(n).fill(1) };
    const bytes = encodeDelta(fill);
    expect(bytes.length).toBeLessThan(32);
    expect(sameDelta(decodeDelta(bytes, n), fill)).toBe(true);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) labels[i] = (i * 7919) % 19;
    const noisy = { runs: Uint32Array.from([0, n]), labels, human: new Uint8Array(n) };
    const inverse = encodeDelta(noisy);
    expect(inverse.length).toBeLessThan(n * 1.01);
    expect(sameDelta(decodeDelta(inverse, n), noisy)).toBe(true);
  });

  it('keeps the worst stroke on the largest image inside the contract limit', () => {
    // Every other pixel changed, each to another class, provenance alternating: nothing to compress.
    const n = MAX_IMAGE_PIXELS;
    const changed = n / 2;
    const runs = new Uint32Array(changed * 2);
    for (let k = 0; k < changed; k++) {
      runs[k * 2] = k * 2;
      runs[k * 2 + 1] = 1;
    }
    const labels = new Uint8Array(changed);
    const human = new Uint8Array(changed);
    for (let k = 0; k < changed; k++) {
      labels[k] = k % 19;
      human[k] = k & 1;
    }
    const text = bytesToBase64(encodeDelta({ runs, labels, human }));
    expect(text.length).toBeLessThanOrEqual(MAX_DELTA_CHARS);
    expect(sameDelta(decodeDelta(base64ToBytes(text), n), { runs, labels, human })).toBe(true);
  });

  it('still reads the version 1 layout (strokes stored before the compact one)', () => {
    const v1 = new Uint8Array([0x4c, 0x44, 0x01, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 7, 7, 255, 1, 1, 0]);
    expect(decodeDelta(v1, 8)).toEqual({ runs: Uint32Array.from([1, 2, 5, 1]), labels: Uint8Array.from([7, 7, 255]), human: Uint8Array.from([1, 1, 0]) });
  });

  it('refuses compact deltas that lie about their counts without allocating for the lie', () => {
    const n = 64;
    const good = encodeDelta(deltaFromIndices([1, 2, 3, 9], (i) => i % 3, () => 1));
    expect(decodeDelta(good, n).labels).toEqual(Uint8Array.from([1, 2, 0, 0]));
    // A run count of 2^32 - 1 in a 9-byte message.
    expect(() => decodeDelta(new Uint8Array([0x4c, 0x44, 0x02, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]), n)).toThrow(/truncated/);
    // A varint that never ends.
    expect(() => decodeDelta(new Uint8Array([0x4c, 0x44, 0x02, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]), n)).toThrow(/out of range|truncated/);
    // Equal-value runs adding up to more than the stroke's pixels.
    expect(() => decodeDelta(new Uint8Array([0x4c, 0x44, 0x02, 0, 1, 0, 4, 1, 3, 9, 1, 1, 4]), n)).toThrow(/wrong length/);
    // Every prefix and a trailing byte are refused with a sentence, never a RangeError.
    for (let cut = 0; cut < good.length; cut++) expect(() => decodeDelta(good.slice(0, cut), n)).toThrow(/could not be read/);
    expect(() => decodeDelta(Uint8Array.from([...good, 0]), n)).toThrow(/wrong length/);
  });
});
