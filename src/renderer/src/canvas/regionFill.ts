// Pixel sets the editor's region tools act on: a connected region of one label (flood fill), a polygon's
// interior (polygon and lasso), one superpixel. Pure functions over row-major maps; results are row-major
// indices in increasing order.
import type { Point } from './zoomPan';

export type { Point };

/** The 4-connected pixels around (x, y) that share its value in `map` (scanline flood fill). */
export function floodRegion(map: ArrayLike<number>, width: number, height: number, x: number, y: number): Uint32Array {
  const sx = Math.floor(x);
  const sy = Math.floor(y);
  if (sx < 0 || sy < 0 || sx >= width || sy >= height) return new Uint32Array(0);
  const value = map[sy * width + sx]!;
  const seen = new Uint8Array(width * height);
  const found: number[] = [];
  const stack: number[] = [sx, sy];
  while (stack.length > 0) {
    const py = stack.pop()!;
    const px = stack.pop()!;
    const row = py * width;
    if (seen[row + px] || map[row + px] !== value) continue;
    let left = px;
    while (left > 0 && !seen[row + left - 1] && map[row + left - 1] === value) left--;
    let right = px;
    while (right < width - 1 && !seen[row + right + 1] && map[row + right + 1] === value) right++;
    for (let i = left; i <= right; i++) {
      seen[row + i] = 1;
      found.push(row + i);
    }
    for (const ny of [py - 1, py + 1]) {
      if (ny < 0 || ny >= height) continue;
      const nrow = ny * width;
      let inRun = false;
      for (let i = left; i <= right; i++) {
        const open = !seen[nrow + i] && map[nrow + i] === value;
        if (open && !inRun) stack.push(i, ny);
        inRun = open;
      }
    }
  }
  return Uint32Array.from(found).sort();
}

/**
 * Pixels whose centres lie inside the polygon (even-odd rule), clipped to the image. Used for polygons
 * (clicked vertices) and lassos (the freehand path, closed).
 */
export function polygonPixels(points: readonly Point[], width: number, height: number): Uint32Array {
  if (points.length < 3) return new Uint32Array(0);
  const ys = points.map((p) => p.y);
  const top = Math.max(0, Math.floor(Math.min(...ys)));
  const bottom = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  const found: number[] = [];
  const crossings: number[] = [];
  for (let y = top; y <= bottom; y++) {
    const cy = y + 0.5;
    crossings.length = 0;
    for (let i = 0; i < points.length; i++) {
      const a = points[i]!;
      const b = points[(i + 1) % points.length]!;
      // Half-open in y so a vertex on the scanline is counted once.
      if (a.y <= cy === b.y <= cy) continue;
      crossings.push(a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x));
    }
    crossings.sort((p, q) => p - q);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      // Pixel x is inside when its centre x + 0.5 lies in [crossing0, crossing1).
      const from = Math.max(0, Math.ceil(crossings[k]! - 0.5));
      const to = Math.min(width - 1, Math.ceil(crossings[k + 1]! - 0.5) - 1);
      for (let x = from; x <= to; x++) found.push(y * width + x);
    }
  }
  return Uint32Array.from(found);
}

/** Every pixel of superpixel `id`. */
export function superpixelPixels(superpixels: Uint16Array, id: number): Uint32Array {
  const found: number[] = [];
  for (let i = 0; i < superpixels.length; i++) if (superpixels[i] === id) found.push(i);
  return Uint32Array.from(found);
}

/** Pixels whose centres lie within `radius` of (cx, cy), clipped to the image, row by row. */
export function discPixels(cx: number, cy: number, radius: number, width: number, height: number, visit: (index: number) => void): void {
  const r2 = radius * radius;
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(height - 1, Math.ceil(cy + radius));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    const half = r2 - dy * dy;
    if (half < 0) continue;
    const span = Math.sqrt(half);
    const x0 = Math.max(0, Math.ceil(cx - span - 0.5));
    const x1 = Math.min(width - 1, Math.floor(cx + span - 0.5));
    for (let x = x0; x <= x1; x++) visit(y * width + x);
  }
}

/** Points from `a` to `b` spaced at most `step` apart (excluding `a`), so a fast stroke leaves no gaps. */
export function interpolate(a: Point, b: Point, step: number): Point[] {
  const distance = Math.hypot(b.x - a.x, b.y - a.y);
  const count = Math.max(1, Math.ceil(distance / Math.max(0.5, step)));
  const out: Point[] = [];
  for (let i = 1; i <= count; i++) out.push({ x: a.x + ((b.x - a.x) * i) / count, y: a.y + ((b.y - a.y) * i) / count });
  return out;
}
