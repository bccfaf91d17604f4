// Shapes the conv kernel tests run (odd sizes, strides 1 and 2, 1x1/3x3/5x5, channels 3/8/16, all pad kinds).
import type { backend_util } from '@tensorflow/tfjs-core';

export interface ConvCase {
  x: [number, number, number, number];
  k: number;
  cout: number;
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
}

export const CONV_CASES: ConvCase[] = [
  { x: [1, 7, 9, 3], k: 3, cout: 8, strides: 1, pad: 'same' },
  { x: [2, 9, 12, 8], k: 3, cout: 8, strides: 1, pad: 'same' },
  { x: [2, 13, 11, 8], k: 3, cout: 16, strides: 2, pad: 'same' },
  { x: [2, 16, 12, 16], k: 3, cout: 8, strides: 2, pad: 'same' },
  { x: [1, 15, 10, 16], k: 1, cout: 16, strides: 1, pad: 'same' },
  { x: [2, 9, 14, 8], k: 1, cout: 3, strides: 2, pad: 'valid' },
  { x: [1, 12, 17, 3], k: 3, cout: 8, strides: 1, pad: 'valid' },
  { x: [1, 11, 11, 8], k: 3, cout: 8, strides: 2, pad: 'valid' },
  { x: [1, 10, 9, 3], k: 5, cout: 16, strides: 2, pad: 'same' },
  { x: [1, 8, 10, 8], k: 3, cout: 8, strides: 1, pad: 2 },
  { x: [1, 9, 9, 3], k: 3, cout: 8, strides: 1, pad: 3 },
  { x: [1, 12, 10, 8], k: 3, cout: 8, strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 10, 11, 8], k: 3, cout: 8, strides: [2, 1], pad: 'same' },
];

export function caseName(c: ConvCase): string {
  return `x ${c.x.join('x')}, ${c.k}x${c.k} -> ${c.cout}, stride ${String(c.strides)}, pad ${JSON.stringify(c.pad)}`;
}
