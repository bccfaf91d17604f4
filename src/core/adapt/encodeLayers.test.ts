import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { encodeLayers } from './predict';
import { slicSuperpixels } from '../regions/superpixels';

describe('encodeLayers', () => {
  it('stores confidence and difficulty as 0..255, depth as value x 100 (clipped to 16 bits), labels as they are', () => {
    const [width, height] = [8, 4];
    const n = width * height;
    const edge = [-0.2, 0, 0.5, 0.998, 1, 1.3, Number.NaN, 0.0019];
    const confidence = Float32Array.from({ length: n }, (_, i) => edge[i % edge.length]!);
    const difficulty = Float32Array.from({ length: n }, (_, i) => (i % 3) * 0.4 - 0.1);
    const depth = Float32Array.from({ length: n }, (_, i) => [-1, 0, 1.234, 39.005, 655.35, 700, 12.3456, Number.NaN][i % 8]!);
    const labels = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 255 : i % 19));
    const rgb = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 37) % 256);
    const layers = encodeLayers(
      { id: 3, width, height },
      { width, height, labels, second: labels.map((v) => (v + 1) % 19), confidence, difficulty, depthSrc: depth, depthTgt: null, logits: null },
      slicSuperpixels(rgb, width, height, { pixelsPerSuperpixel: 8 }),
    );
    const unit = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255) & 255;
    expect(Array.from(decode(layers.confidence).data)).toEqual(Array.from(confidence, unit));
    expect(Array.from(decode(layers.difficulty!).data)).toEqual(Array.from(difficulty, unit));
    expect(Array.from(decode(layers.depthSrc!).data)).toEqual(Array.from(depth, (v) => Math.round(Math.min(655.35, Math.max(0, v)) * 100) & 0xffff));
    expect(Array.from(decode(layers.depthSrc!).data).slice(0, 8)).toEqual([0, 0, 123, 3901, 65535, 65535, 1235, 0]);
    expect(Array.from(decode(layers.prediction).data)).toEqual(Array.from(labels));
    expect(layers.depthTgt).toBeNull();
    expect(layers.imageId).toBe(3);
    expect(layers.difficultyScore).toBeCloseTo(difficulty.reduce((a, b) => a + b, 0) / n, 6);
  });
});
