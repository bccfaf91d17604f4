import { describe, expect, it } from 'vitest';
import { applyDelta, base64ToBytes, bytesToBase64, decodeDelta, deltaFromIndices, encodeDelta } from './labelDelta';

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
    expect(() => decodeDelta(encodeDelta(deltaFromIndices([1, 2], () => 1, () => 1)).slice(0, -1), 8)).toThrow(/wrong length/);
    expect(() => decodeDelta(new Uint8Array([1, 2, 3]), 8)).toThrow(/unknown format/);
    expect(() => base64ToBytes('***')).toThrow(/not base64/);
  });
});
