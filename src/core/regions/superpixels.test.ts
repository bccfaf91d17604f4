import { describe, expect, it } from 'vitest';
import { Rng } from '../random';
import { enforceConnectivity, slicSuperpixels } from './superpixels';

function image(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(colour(x, y), (y * width + x) * 3);
  return rgb;
}

/** A noisy two-colour image: a dark red disc on a light blue ground. */
function disc(width: number, height: number, seed = 1) {
  const rng = new Rng(seed);
  const inside = (x: number, y: number) => (x - width * 0.45) ** 2 + (y - height * 0.55) ** 2 < (height * 0.35) ** 2;
  const noise = () => Math.round((rng.next() - 0.5) * 24);
  const rgb = image(width, height, (x, y) => (inside(x, y) ? [150 + noise(), 30 + noise(), 40 + noise()] : [120 + noise(), 170 + noise(), 230 + noise()]));
  return { rgb, inside };
}

function componentsOf(labels: Uint16Array, width: number, height: number, id: number): number {
  const seen = new Uint8Array(labels.length);
  let components = 0;
  for (let start = 0; start < labels.length; start++) {
    if (labels[start] !== id || seen[start]) continue;
    components++;
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const neighbours = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, p - width, p + width];
      for (const q of neighbours) {
        if (q < 0 || q >= width * height || seen[q] || labels[q] !== id) continue;
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  return components;
}

describe('SLIC superpixels', () => {
  const width = 160;
  const height = 96;
  const { rgb, inside } = disc(width, height);
  const result = slicSuperpixels(rgb, width, height, { pixelsPerSuperpixel: 100 });

  it('labels every pixel with dense ids, about as many as asked for', () => {
    expect(result.labels).toHaveLength(width * height);
    const used = new Set(result.labels);
    expect(used.size).toBe(result.count);
    expect(Math.max(...used)).toBe(result.count - 1);
    expect(result.count).toBeGreaterThan((width * height) / 100 / 2);
    expect(result.count).toBeLessThan(((width * height) / 100) * 2);
  });

  it('makes every superpixel one connected component', () => {
    for (let id = 0; id < result.count; id++) expect(componentsOf(result.labels, width, height, id)).toBe(1);
  });

  it('respects a sharp colour edge (stray pixels only right at the edge)', () => {
    const distanceToEdge = (x: number, y: number) => Math.abs(Math.hypot(x - width * 0.45, y - height * 0.55) - height * 0.35);
    const sides = new Map<number, { in: number[]; out: number[] }>();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const id = result.labels[y * width + x]!;
        const entry = sides.get(id) ?? { in: [], out: [] };
        (inside(x, y) ? entry.in : entry.out).push(y * width + x);
        sides.set(id, entry);
      }
    }
    for (const { in: a, out: b } of sides.values()) {
      const minority = a.length < b.length ? a : b;
      for (const p of minority) expect(distanceToEdge(p % width, Math.floor(p / width))).toBeLessThan(2);
    }
  });

  it('is deterministic', () => {
    const again = slicSuperpixels(rgb, width, height, { pixelsPerSuperpixel: 100 });
    expect(again.count).toBe(result.count);
    expect(Buffer.from(again.labels.buffer).equals(Buffer.from(result.labels.buffer))).toBe(true);
  });

  it('handles a flat image and images smaller than one superpixel', () => {
    const flat = slicSuperpixels(image(40, 20, () => [90, 90, 90]), 40, 20, { pixelsPerSuperpixel: 100 });
    expect(flat.count).toBeGreaterThanOrEqual(4);
    for (let id = 0; id < flat.count; id++) expect(componentsOf(flat.labels, 40, 20, id)).toBe(1);
    const tiny = slicSuperpixels(image(3, 2, () => [1, 2, 3]), 3, 2);
    expect(tiny).toEqual({ labels: new Uint16Array(6), count: 1 });
  });

  it('merges small disconnected fragments into a neighbour', () => {
    // Label 0 has a one-pixel island inside label 1.
    const labels = Int32Array.from([0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1]);
    const grey = { l: new Float32Array(15).fill(50), a: new Float32Array(15), b: new Float32Array(15) };
    const merged = enforceConnectivity(labels, 5, 3, 2, grey);
    expect(merged.count).toBe(2);
    expect(Array.from(merged.labels)).toEqual([0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1]);
  });
});
