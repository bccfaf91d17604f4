// SLIC superpixels (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods", TPAMI
// 2012): k-means in CIELAB + image position, each centre searching only a window around itself, then a
// connectivity pass so that every superpixel is one 4-connected component. Pure and deterministic.

export interface SlicOptions {
  /** Target pixels per superpixel; the grid step is about its square root. */
  pixelsPerSuperpixel?: number;
  /** m: weight of position against colour; larger gives more compact, less boundary-hugging superpixels. */
  compactness?: number;
  iterations?: number;
}

export interface Superpixels {
  /** One id per pixel, row-major; ids are dense, 0..count-1. */
  labels: Uint16Array;
  count: number;
}

export const PIXELS_PER_SUPERPIXEL = 400;
const MAX_SUPERPIXELS = 65535;
// The connectivity pass can at most quadruple the count (pieces under a quarter cell are merged).
const MAX_GRID_CELLS = Math.floor(MAX_SUPERPIXELS / 4);

const srgbToLinear = new Float32Array(256).map((_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

/** sRGB (D65) → CIELAB, three planes. */
export function rgbToLab(rgb: Uint8Array, n: number): { l: Float32Array; a: Float32Array; b: Float32Array } {
  const l = new Float32Array(n);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = srgbToLinear[rgb[i * 3]!]!;
    const g = srgbToLinear[rgb[i * 3 + 1]!]!;
    const bl = srgbToLinear[rgb[i * 3 + 2]!]!;
    const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * bl) / 0.95047);
    const fy = labF(0.2126729 * r + 0.7151522 * g + 0.072175 * bl);
    const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * bl) / 1.08883);
    l[i] = 116 * fy - 16;
    a[i] = 500 * (fx - fy);
    b[i] = 200 * (fy - fz);
  }
  return { l, a, b };
}

export function slicSuperpixels(rgb: Uint8Array, width: number, height: number, options: SlicOptions = {}): Superpixels {
  const n = width * height;
  if (!(width > 0 && height > 0) || rgb.length !== n * 3) throw new Error(`expected ${width}x${height} RGB pixels, got ${rgb.length} bytes`);
  const pixelsPer = Math.max(4, options.pixelsPerSuperpixel ?? PIXELS_PER_SUPERPIXEL);
  const m = options.compactness ?? 10;
  const iterations = options.iterations ?? 10;
  const { l, a, b } = rgbToLab(rgb, n);

  // A regular grid of centres, few enough that ids fit 16 bits after the connectivity pass.
  let step = Math.sqrt(n / Math.max(1, Math.round(n / pixelsPer)));
  let nx = Math.max(1, Math.round(width / step));
  let ny = Math.max(1, Math.round(height / step));
  while (nx * ny > MAX_GRID_CELLS) {
    step *= 1.05;
    nx = Math.max(1, Math.round(width / step));
    ny = Math.max(1, Math.round(height / step));
  }
  const k = nx * ny;
  const stepX = width / nx;
  const stepY = height / ny;
  const s = Math.sqrt(stepX * stepY);
  const spatialWeight = (m / s) ** 2;
  const reach = Math.ceil(Math.max(stepX, stepY));

  const cl = new Float32Array(k);
  const ca = new Float32Array(k);
  const cb = new Float32Array(k);
  const cx = new Float32Array(k);
  const cy = new Float32Array(k);
  const labels = new Int32Array(n);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const c = j * nx + i;
      let x = Math.min(width - 1, Math.floor((i + 0.5) * stepX));
      let y = Math.min(height - 1, Math.floor((j + 0.5) * stepY));
      [x, y] = lowestGradient(l, a, b, width, height, x, y);
      const p = y * width + x;
      cl[c] = l[p]!;
      ca[c] = a[p]!;
      cb[c] = b[p]!;
      cx[c] = x;
      cy[c] = y;
    }
  }
  // Every pixel starts in its grid cell, so one that no window reaches keeps a sensible label.
  for (let y = 0; y < height; y++) {
    const j = Math.min(ny - 1, Math.floor(y / stepY));
    for (let x = 0; x < width; x++) labels[y * width + x] = j * nx + Math.min(nx - 1, Math.floor(x / stepX));
  }

  const distance = new Float32Array(n);
  const sums = new Float64Array(k * 5);
  const counts = new Int32Array(k);
  for (let iter = 0; iter < iterations; iter++) {
    distance.fill(Infinity);
    for (let c = 0; c < k; c++) {
      const x0 = Math.max(0, Math.floor(cx[c]! - reach));
      const x1 = Math.min(width - 1, Math.ceil(cx[c]! + reach));
      const y0 = Math.max(0, Math.floor(cy[c]! - reach));
      const y1 = Math.min(height - 1, Math.ceil(cy[c]! + reach));
      const L = cl[c]!;
      const A = ca[c]!;
      const B = cb[c]!;
      const X = cx[c]!;
      const Y = cy[c]!;
      for (let y = y0; y <= y1; y++) {
        const dy2 = (y - Y) * (y - Y);
        let p = y * width + x0;
        for (let x = x0; x <= x1; x++, p++) {
          const dl = l[p]! - L;
          const da = a[p]! - A;
          const db = b[p]! - B;
          const d = dl * dl + da * da + db * db + ((x - X) * (x - X) + dy2) * spatialWeight;
          if (d < distance[p]!) {
            distance[p] = d;
            labels[p] = c;
          }
        }
      }
    }
    sums.fill(0);
    counts.fill(0);
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) {
        const c = labels[p]!;
        const o = c * 5;
        sums[o]! += l[p]!;
        sums[o + 1]! += a[p]!;
        sums[o + 2]! += b[p]!;
        sums[o + 3]! += x;
        sums[o + 4]! += y;
        counts[c]!++;
      }
    }
    for (let c = 0; c < k; c++) {
      const count = counts[c]!;
      if (count === 0) continue;
      const o = c * 5;
      cl[c] = sums[o]! / count;
      ca[c] = sums[o + 1]! / count;
      cb[c] = sums[o + 2]! / count;
      cx[c] = sums[o + 3]! / count;
      cy[c] = sums[o + 4]! / count;
    }
  }
  return enforceConnectivity(labels, width, height, Math.max(1, Math.floor((stepX * stepY) / 4)), { l, a, b });
}

/** The position of the smallest colour gradient in the 3x3 neighbourhood (keeps centres off edges and noise). */
function lowestGradient(l: Float32Array, a: Float32Array, b: Float32Array, width: number, height: number, x: number, y: number): [number, number] {
  let best: [number, number] = [x, y];
  let bestGradient = Infinity;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const px = x + dx;
      const py = y + dy;
      if (px < 1 || py < 1 || px >= width - 1 || py >= height - 1) continue;
      const p = py * width + px;
      const h = (i: number, j: number) => (l[i]! - l[j]!) ** 2 + (a[i]! - a[j]!) ** 2 + (b[i]! - b[j]!) ** 2;
      const gradient = h(p + 1, p - 1) + h(p + width, p - width);
      if (gradient < bestGradient) {
        bestGradient = gradient;
        best = [px, py];
      }
    }
  }
  return best;
}

/**
 * Makes every superpixel one 4-connected component: each connected piece of a label becomes its own
 * component, then pieces smaller than `minSize` join the touching component of most similar mean colour
 * (smallest first), so merged superpixels stay connected and rarely cross a colour edge. Final ids follow the
 * raster order of each superpixel's first pixel.
 */
export function enforceConnectivity(labels: Int32Array, width: number, height: number, minSize: number, lab: { l: Float32Array; a: Float32Array; b: Float32Array }): Superpixels {
  const n = width * height;
  const piece = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  const sizes: number[] = [];
  const colour: number[] = [];
  let id = 0;
  let old = 0;
  let tail = 0;
  const visit = (q: number) => {
    if (piece[q] === -1 && labels[q] === old) {
      piece[q] = id;
      queue[tail++] = q;
    }
  };
  for (let start = 0; start < n; start++) {
    if (piece[start] !== -1) continue;
    id = sizes.length;
    old = labels[start]!;
    piece[start] = id;
    queue[0] = start;
    tail = 1;
    let sl = 0;
    let sa = 0;
    let sb = 0;
    for (let head = 0; head < tail; head++) {
      const p = queue[head]!;
      sl += lab.l[p]!;
      sa += lab.a[p]!;
      sb += lab.b[p]!;
      const x = p % width;
      if (x > 0) visit(p - 1);
      if (x < width - 1) visit(p + 1);
      if (p >= width) visit(p - width);
      if (p < n - width) visit(p + width);
    }
    sizes.push(tail);
    colour.push(sl, sa, sb);
  }

  // Only pieces that start small ever merge or receive merges that leave them small, so only they keep neighbours.
  const count = sizes.length;
  const neighbours = new Map<number, Set<number>>();
  for (let i = 0; i < count; i++) if (sizes[i]! < minSize) neighbours.set(i, new Set());
  const touch = (i: number, j: number) => {
    neighbours.get(i)?.add(j);
    neighbours.get(j)?.add(i);
  };
  for (let p = 0; p < n; p++) {
    const here = piece[p]!;
    if (p % width < width - 1 && piece[p + 1] !== here) touch(here, piece[p + 1]!);
    if (p < n - width && piece[p + width] !== here) touch(here, piece[p + width]!);
  }

  const parent = Int32Array.from({ length: count }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const order = [...neighbours.keys()].sort((i, j) => sizes[i]! - sizes[j]! || i - j);
  for (const i of order) {
    const root = find(i);
    if (sizes[root]! >= minSize) continue;
    let best = -1;
    let bestDistance = Infinity;
    for (const other of neighbours.get(root)!) {
      const candidate = find(other);
      if (candidate === root) continue;
      let d = 0;
      for (let c = 0; c < 3; c++) d += (colour[root * 3 + c]! / sizes[root]! - colour[candidate * 3 + c]! / sizes[candidate]!) ** 2;
      if (d < bestDistance || (d === bestDistance && candidate < best)) {
        bestDistance = d;
        best = candidate;
      }
    }
    if (best < 0) continue;
    parent[root] = best;
    const into = neighbours.get(best);
    if (into && sizes[best]! + sizes[root]! < minSize) for (const other of neighbours.get(root)!) into.add(other);
    sizes[best]! += sizes[root]!;
    for (let c = 0; c < 3; c++) colour[best * 3 + c]! += colour[root * 3 + c]!;
    neighbours.delete(root);
  }

  const finalId = new Int32Array(count).fill(-1);
  let next = 0;
  const out = new Uint16Array(n);
  for (let p = 0; p < n; p++) {
    const root = find(piece[p]!);
    if (finalId[root] === -1) {
      if (next >= MAX_SUPERPIXELS) throw new Error(`more than ${MAX_SUPERPIXELS} superpixels do not fit 16-bit ids`);
      finalId[root] = next++;
    }
    out[p] = finalId[root]!;
  }
  return { labels: out, count: next };
}
