// One stroke's effect on the label map while it is being drawn. Pixels change at once (so the canvas shows
// them), the first value of each touched pixel is remembered, and `finish` turns the net change into a
// LabelDelta for the save queue; `cancel` puts every pixel back.
import type { LabelDelta } from '../../../shared/labelDelta';
import { IGNORE } from '../../../shared/labels';

/** The label map being edited and what the tools read from. All at the image's resolution. */
export interface EditorPlanes {
  width: number;
  height: number;
  /** The correction: one train id per pixel, 255 = ignore. The truth; the canvas only shows it. */
  labels: Uint8Array;
  /** 1 where a person set the label. */
  human: Uint8Array;
  /** The base round's prediction (what the eraser restores); all 255 without a round. */
  model: Uint8Array;
  /** The base round's second most likely class, when stored. */
  second: Uint8Array | null;
  superpixels: Uint16Array | null;
}

/** What a stroke writes into each pixel it touches. */
export type PaintMode =
  | { kind: 'class'; classId: number }
  | { kind: 'ignore' }
  /** Back to the model's label, provenance model (the eraser). */
  | { kind: 'model' }
  | { kind: 'second' };

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A lookup over class ids: true where a stroke must leave the pixel alone. */
export function protectionTable(protectedClasses: Iterable<number>): Uint8Array {
  const table = new Uint8Array(256);
  for (const c of protectedClasses) table[c] = 1;
  return table;
}

export class Stroke {
  // Full-size planes rather than lists: scanning them in row order yields the sorted indices a delta needs
  // without sorting a million-entry list after a big fill. Each row remembers the span it was touched in, so
  // a thin diagonal stroke is scanned along itself, not over its whole bounding box.
  private readonly touched: Uint8Array;
  private readonly rowFrom: Int32Array;
  private readonly rowTo: Int32Array;
  private readonly beforeLabels: Uint8Array;
  private readonly beforeHuman: Uint8Array;
  /** Bounding box of the pixels changed since the last `takeDirty`, or null. */
  private dirty: Rect | null = null;
  /** Bounding box of every pixel the stroke touched. */
  private extent: Rect | null = null;

  constructor(
    private readonly planes: EditorPlanes,
    private readonly mode: PaintMode,
    private readonly protection: Uint8Array = new Uint8Array(256),
    /** Keeps the stroke inside one superpixel (the queued region), or null. */
    private readonly confine: { superpixels: Uint16Array; id: number } | null = null,
  ) {
    const n = planes.width * planes.height;
    this.touched = new Uint8Array(n);
    this.beforeLabels = new Uint8Array(n);
    this.beforeHuman = new Uint8Array(n);
    this.rowFrom = new Int32Array(planes.height).fill(planes.width);
    this.rowTo = new Int32Array(planes.height).fill(-1);
  }

  /** Applies the stroke's mode to pixel `i` unless its class is protected or it lies outside the confinement. */
  readonly touch = (i: number): void => {
    const { labels, human } = this.planes;
    const current = labels[i]!;
    if (this.protection[current]) return;
    if (this.confine && this.confine.superpixels[i] !== this.confine.id) return;
    let label: number;
    let provenance = 1;
    switch (this.mode.kind) {
      case 'class':
        label = this.mode.classId;
        break;
      case 'ignore':
        label = IGNORE;
        break;
      case 'model':
        label = this.planes.model[i]!;
        provenance = 0;
        break;
      case 'second':
        if (!this.planes.second) return;
        label = this.planes.second[i]!;
        break;
    }
    if (label === current && human[i] === provenance) return;
    const x = i % this.planes.width;
    const y = (i - x) / this.planes.width;
    if (!this.touched[i]) {
      this.touched[i] = 1;
      this.beforeLabels[i] = current;
      this.beforeHuman[i] = human[i]!;
      this.extent = grow(this.extent, x, y);
      if (x < this.rowFrom[y]!) this.rowFrom[y] = x;
      if (x > this.rowTo[y]!) this.rowTo[y] = x;
    }
    labels[i] = label;
    human[i] = provenance;
    this.dirty = grow(this.dirty, x, y);
  };

  touchAll(indices: ArrayLike<number>): void {
    for (let k = 0; k < indices.length; k++) this.touch(indices[k]!);
  }

  /** The rectangle to redraw since the last call, or null when nothing changed. */
  takeDirty(): Rect | null {
    const d = this.dirty;
    this.dirty = null;
    return d;
  }

  /** The net change (pixels whose value differs from before the stroke), or null when there is none. */
  finish(): LabelDelta | null {
    const { labels, human, width } = this.planes;
    const e = this.extent;
    if (!e) return null;
    // Built straight from the row spans, in index order: runs merge as they are found.
    const runs: number[] = [];
    const newLabels: number[] = [];
    const newHuman: number[] = [];
    for (let y = e.y0; y <= e.y1; y++) {
      for (let i = y * width + this.rowFrom[y]!, end = y * width + this.rowTo[y]!; i <= end; i++) {
        if (!this.touched[i] || (labels[i] === this.beforeLabels[i] && human[i] === this.beforeHuman[i])) continue;
        const last = runs.length - 2;
        if (last >= 0 && runs[last]! + runs[last + 1]! === i) runs[last + 1]!++;
        else runs.push(i, 1);
        newLabels.push(labels[i]!);
        newHuman.push(human[i]!);
      }
    }
    if (newLabels.length === 0) return null;
    return { runs: Uint32Array.from(runs), labels: Uint8Array.from(newLabels), human: Uint8Array.from(newHuman) };
  }

  /** Restores every touched pixel; returns the rectangle to redraw. */
  cancel(): Rect | null {
    const { labels, human } = this.planes;
    this.forEachTouched((i) => {
      labels[i] = this.beforeLabels[i]!;
      human[i] = this.beforeHuman[i]!;
    });
    const extent = this.extent;
    this.dirty = null;
    return extent;
  }

  private forEachTouched(visit: (i: number) => void): void {
    const e = this.extent;
    if (!e) return;
    const w = this.planes.width;
    for (let y = e.y0; y <= e.y1; y++) {
      for (let i = y * w + this.rowFrom[y]!, end = y * w + this.rowTo[y]!; i <= end; i++) if (this.touched[i]) visit(i);
    }
  }
}

function grow(rect: Rect | null, x: number, y: number): Rect {
  if (!rect) return { x0: x, y0: y, x1: x, y1: y };
  if (x < rect.x0) rect.x0 = x;
  if (x > rect.x1) rect.x1 = x;
  if (y < rect.y0) rect.y0 = y;
  if (y > rect.y1) rect.y1 = y;
  return rect;
}
