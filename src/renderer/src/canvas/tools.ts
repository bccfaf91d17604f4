// The editor's tools, each a small state machine (idle → painting / placing → idle) that turns pointer input
// in image coordinates into strokes on the host. No React, no Konva: the canvas feeds them points and draws
// their preview; the host owns the label map and the save queue.
import type { StrokeTool } from '../../../shared/api';
import { discPixels, floodRegion, interpolate, polygonPixels, superpixelPixels, type Point } from './regionFill';
import type { EditorPlanes, PaintMode, Stroke } from './stroke';

export type ToolName = StrokeTool;

export interface ToolHost {
  readonly planes: EditorPlanes;
  readonly classId: number;
  /** Brush diameter in image pixels. */
  readonly brushSize: number;
  begin(mode: PaintMode): Stroke;
  /** Called after pixels changed mid-stroke, so the canvas can redraw the dirty part. */
  changed(stroke: Stroke): void;
  commit(stroke: Stroke, tool: ToolName): void;
  cancel(stroke: Stroke): void;
}

/** What the canvas draws on top of the labels while a tool works. */
export type ToolPreview = { kind: 'path'; points: Point[]; closed: boolean } | null;

export interface Tool {
  readonly name: ToolName;
  /** True mid-gesture: undo and switching images wait until the gesture ends. */
  readonly busy: boolean;
  down(p: Point): void;
  move(points: readonly Point[]): void;
  up(p: Point): void;
  /** Enter, Escape, Backspace; returns whether the key was used. */
  key(key: string): boolean;
  preview(): ToolPreview;
}

const paintMode = (host: ToolHost): PaintMode => ({ kind: 'class', classId: host.classId });

/**
 * A tool whose gesture is one stroke from press to release: idle, or stroking with the stroke and what the
 * tool keeps about it (`G`). Release commits the stroke, Escape cancels it.
 */
abstract class StrokeGestureTool<G extends object> implements Tool {
  abstract readonly name: ToolName;
  protected state: { kind: 'idle' } | ({ kind: 'stroking'; stroke: Stroke } & G) = { kind: 'idle' };

  constructor(protected readonly host: ToolHost) {}

  get busy(): boolean {
    return this.state.kind === 'stroking';
  }

  abstract down(p: Point): void;
  abstract move(points: readonly Point[]): void;

  up(_p: Point): void {
    if (this.state.kind !== 'stroking') return;
    const { stroke } = this.state;
    this.state = { kind: 'idle' };
    this.host.commit(stroke, this.name);
  }

  key(key: string): boolean {
    if (key !== 'Escape' || this.state.kind !== 'stroking') return false;
    this.host.cancel(this.state.stroke);
    this.state = { kind: 'idle' };
    return true;
  }

  preview(): ToolPreview {
    return null;
  }
}

/** Brush, eraser (back to the model's label) and the ignore brush: discs along the pointer's path. */
export class BrushTool extends StrokeGestureTool<{ last: Point }> {
  constructor(
    readonly name: 'brush' | 'eraser' | 'ignore',
    host: ToolHost,
  ) {
    super(host);
  }

  down(p: Point): void {
    const mode: PaintMode = this.name === 'eraser' ? { kind: 'model' } : this.name === 'ignore' ? { kind: 'ignore' } : paintMode(this.host);
    const stroke = this.host.begin(mode);
    this.state = { kind: 'stroking', stroke, last: p };
    this.stamp(stroke, p);
    this.host.changed(stroke);
  }

  move(points: readonly Point[]): void {
    const state = this.state;
    if (state.kind !== 'stroking') return;
    const radius = this.host.brushSize / 2;
    for (const p of points) {
      for (const q of interpolate(state.last, p, Math.max(0.5, radius / 2))) this.stamp(state.stroke, q);
      state.last = p;
    }
    this.host.changed(state.stroke);
  }

  override up(p: Point): void {
    this.move([p]);
    super.up(p);
  }

  private stamp(stroke: Stroke, p: Point): void {
    const { width, height } = this.host.planes;
    discPixels(p.x, p.y, Math.max(0.5, this.host.brushSize / 2), width, height, stroke.touch);
  }
}

/**
 * One click, one region: flood fill (the connected region of the clicked label), superpixel fill (the clicked
 * superpixel; dragging adds every superpixel passed over) and "second choice" (the clicked superpixel, or the
 * connected region without superpixels, set to the model's second most likely class).
 */
export class RegionTool extends StrokeGestureTool<{ visited: Set<number> }> {
  constructor(
    readonly name: 'fill' | 'superpixel' | 'second-choice',
    host: ToolHost,
  ) {
    super(host);
  }

  down(p: Point): void {
    const mode: PaintMode = this.name === 'second-choice' ? { kind: 'second' } : paintMode(this.host);
    const state = { kind: 'stroking', stroke: this.host.begin(mode), visited: new Set<number>() } as const;
    this.state = state;
    this.add(state, p);
  }

  move(points: readonly Point[]): void {
    const state = this.state;
    if (state.kind !== 'stroking' || this.name !== 'superpixel') return;
    for (const p of points) this.add(state, p);
  }

  private add({ stroke, visited }: { stroke: Stroke; visited: Set<number> }, p: Point): void {
    const { width, height, labels, superpixels } = this.host.planes;
    const x = Math.floor(p.x);
    const y = Math.floor(p.y);
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const useSuperpixels = superpixels && this.name !== 'fill';
    const key = useSuperpixels ? superpixels[y * width + x]! : y * width + x;
    if (visited.has(key)) return;
    visited.add(key);
    stroke.touchAll(useSuperpixels ? superpixelPixels(superpixels, key) : floodRegion(labels, width, height, x, y));
    this.host.changed(stroke);
  }
}

/** Closing a polygon by clicking near its first vertex: within this many screen pixels. */
export const CLOSE_DISTANCE_PX = 8;

/** Click vertices; click the first vertex again, double-click or press Enter to fill; Escape drops it. */
type PolygonState = { kind: 'idle' } | { kind: 'placing'; points: Point[] };

export class PolygonTool implements Tool {
  readonly name = 'polygon' as const;
  private state: PolygonState = { kind: 'idle' };
  /** The pointer's last position, for the rubber band from the last vertex. */
  private hover: Point | null = null;

  constructor(
    private readonly host: ToolHost,
    /** Image pixels per screen pixel now, so closing works the same at every zoom. */
    private readonly imagePixelsPerScreenPixel: () => number,
  ) {}

  get busy(): boolean {
    return this.state.kind === 'placing';
  }

  down(p: Point): void {
    if (this.state.kind === 'idle') {
      this.state = { kind: 'placing', points: [p] };
      return;
    }
    const { points } = this.state;
    const reach = CLOSE_DISTANCE_PX * this.imagePixelsPerScreenPixel();
    const near = (q: Point | undefined) => q !== undefined && Math.hypot(q.x - p.x, q.y - p.y) <= reach;
    // Clicking the first vertex again, or the last one twice (a double-click), closes the polygon.
    if (points.length >= 3 && (near(points[0]) || near(points.at(-1)))) this.close();
    else points.push(p);
  }

  move(points: readonly Point[]): void {
    this.hover = points.at(-1) ?? this.hover;
  }

  up(): void {}

  key(key: string): boolean {
    if (this.state.kind !== 'placing') return false;
    if (key === 'Enter') this.close();
    else if (key === 'Escape') this.state = { kind: 'idle' };
    else if (key === 'Backspace') {
      this.state.points.pop();
      if (this.state.points.length === 0) this.state = { kind: 'idle' };
    } else return false;
    return true;
  }

  preview(): ToolPreview {
    if (this.state.kind !== 'placing') return null;
    const { points } = this.state;
    return { kind: 'path', points: this.hover ? [...points, this.hover] : [...points], closed: false };
  }

  private close(): void {
    if (this.state.kind !== 'placing') return;
    const { points } = this.state;
    this.state = { kind: 'idle' };
    if (points.length < 3) return;
    fillPolygon(this.host, points, this.name);
  }
}

/** Drag a freehand outline; releasing fills it. */
type LassoState = { kind: 'idle' } | { kind: 'drawing'; points: Point[] };

export class LassoTool implements Tool {
  readonly name = 'lasso' as const;
  private state: LassoState = { kind: 'idle' };

  constructor(private readonly host: ToolHost) {}

  get busy(): boolean {
    return this.state.kind === 'drawing';
  }

  down(p: Point): void {
    this.state = { kind: 'drawing', points: [p] };
  }

  move(points: readonly Point[]): void {
    if (this.state.kind === 'drawing') this.state.points.push(...points);
  }

  up(p: Point): void {
    if (this.state.kind !== 'drawing') return;
    const points = [...this.state.points, p];
    this.state = { kind: 'idle' };
    if (points.length >= 3) fillPolygon(this.host, points, this.name);
  }

  key(key: string): boolean {
    if (key !== 'Escape' || this.state.kind !== 'drawing') return false;
    this.state = { kind: 'idle' };
    return true;
  }

  preview(): ToolPreview {
    return this.state.kind === 'drawing' ? { kind: 'path', points: this.state.points, closed: true } : null;
  }
}

function fillPolygon(host: ToolHost, points: Point[], name: ToolName): void {
  const stroke = host.begin(paintMode(host));
  stroke.touchAll(polygonPixels(points, host.planes.width, host.planes.height));
  host.changed(stroke);
  host.commit(stroke, name);
}

export function createTool(name: ToolName, host: ToolHost, imagePixelsPerScreenPixel: () => number): Tool {
  switch (name) {
    case 'brush':
    case 'eraser':
    case 'ignore':
      return new BrushTool(name, host);
    case 'fill':
    case 'superpixel':
    case 'second-choice':
      return new RegionTool(name, host);
    case 'polygon':
      return new PolygonTool(host, imagePixelsPerScreenPixel);
    case 'lasso':
      return new LassoTool(host);
  }
}
