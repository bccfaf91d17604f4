import { describe, expect, it } from 'vitest';
import { discPixels, floodRegion, interpolate, polygonPixels, superpixelPixels } from './regionFill';

/** A map from rows of digits, e.g. ['0011', '0111']. */
function grid(rows: string[]): { map: Uint8Array; width: number; height: number } {
  return { map: Uint8Array.from(rows.join('').split('').map(Number)), width: rows[0]!.length, height: rows.length };
}

describe('flood fill', () => {
  it('takes the 4-connected region of the clicked value, including around a U bend, and nothing diagonal', () => {
    const { map, width, height } = grid(['11011', '10001', '11111', '00100', '10000']);
    const region = floodRegion(map, width, height, 0, 0);
    // the ring of 1s plus the stem at (2,3); (0,4) touches only diagonally-free 0s and stays out.
    expect(Array.from(region)).toEqual([0, 1, 3, 4, 5, 9, 10, 11, 12, 13, 14, 17]);
    expect(Array.from(floodRegion(map, width, height, 1.7, 1.2))).toEqual([2, 6, 7, 8]);
  });

  it('is empty outside the image and covers a uniform map entirely', () => {
    const { map, width, height } = grid(['000', '000']);
    expect(floodRegion(map, width, height, -1, 0)).toHaveLength(0);
    expect(floodRegion(map, width, height, 3, 0)).toHaveLength(0);
    expect(floodRegion(map, width, height, 2, 1)).toHaveLength(6);
  });

  it('fills a 2048x1024 map without recursion limits', () => {
    const width = 2048;
    const height = 1024;
    const map = new Uint8Array(width * height);
    // a comb that forces many scanline restarts
    for (let x = 1; x < width; x += 2) for (let y = 0; y < height - 1; y++) map[y * width + x] = 1;
    expect(floodRegion(map, width, height, 0, 0)).toHaveLength(width * height - (width / 2) * (height - 1));
  });
});

describe('polygon fill', () => {
  it('fills the pixels whose centres are inside an axis-aligned rectangle', () => {
    const square = [
      { x: 1, y: 1 },
      { x: 3, y: 1 },
      { x: 3, y: 3 },
      { x: 1, y: 3 },
    ];
    expect(Array.from(polygonPixels(square, 5, 5))).toEqual([6, 7, 11, 12]);
  });

  it('follows the even-odd rule for a triangle and clips to the image', () => {
    const triangle = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 0, y: 4 },
    ];
    // centres (x+0.5, y+0.5) with x + y + 1 < 4
    expect(Array.from(polygonPixels(triangle, 4, 4))).toEqual([0, 1, 2, 4, 5, 8]);
    const beyond = [
      { x: -10, y: -10 },
      { x: 10, y: -10 },
      { x: 10, y: 10 },
      { x: -10, y: 10 },
    ];
    expect(polygonPixels(beyond, 3, 2)).toHaveLength(6);
    expect(polygonPixels(triangle.slice(0, 2), 4, 4)).toHaveLength(0);
  });

  it('leaves the hole of a self-crossing bow tie region consistent (each pixel at most once)', () => {
    const bowTie = [
      { x: 0, y: 0 },
      { x: 8, y: 8 },
      { x: 8, y: 0 },
      { x: 0, y: 8 },
    ];
    const pixels = polygonPixels(bowTie, 8, 8);
    expect(new Set(pixels).size).toBe(pixels.length);
    // Rows cross the edges at x = 0, y, 8 - y, 8: the left and right wings are inside, the top and bottom out.
    expect(pixels).toContain(3 * 8 + 0);
    expect(pixels).toContain(3 * 8 + 7);
    expect(pixels).not.toContain(0 * 8 + 3);
    expect(pixels).not.toContain(1 * 8 + 4);
  });
});

describe('brush geometry', () => {
  it('a disc of radius 1.5 centred on a pixel centre covers the 3x3 block but not its corners at radius 1', () => {
    const hits: number[] = [];
    discPixels(2.5, 2.5, 1.5, 5, 5, (i) => hits.push(i));
    expect(hits).toEqual([6, 7, 8, 11, 12, 13, 16, 17, 18]);
    const small: number[] = [];
    discPixels(2.5, 2.5, 1, 5, 5, (i) => small.push(i));
    expect(small).toEqual([7, 11, 12, 13, 17]);
  });

  it('interpolates gap-free between far points', () => {
    const points = interpolate({ x: 0, y: 0 }, { x: 10, y: 0 }, 2);
    expect(points).toHaveLength(5);
    expect(points.at(-1)).toEqual({ x: 10, y: 0 });
  });

  it('selects a superpixel by id', () => {
    expect(Array.from(superpixelPixels(Uint16Array.from([0, 3, 3, 1, 3]), 3))).toEqual([1, 2, 4]);
  });
});
