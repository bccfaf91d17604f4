// The editor's canvas: Konva, no React, no transport. Three layers: the RGB image and read-only overlays
// (imageLayers.ts), the correction painted from the label map by dirty rectangle (correctionLayer.ts), the
// cursor, tool previews and region outline (toolLayer.ts). This class owns the view and the pointer: pointer
// moves only queue their (coalesced) points; one animation frame feeds them to the tool and draws once. Zoom
// and pan are the pure functions of zoomPan.ts.
import Konva from 'konva';
import { CorrectionLayer, type CorrectionStyle } from './correctionLayer';
import { ImageLayers, type OverlaySpec } from './imageLayers';
import { insideImage, unionRect, type RegionShape } from './labelPaint';
import { PerfRecorder } from './perf';
import type { EditorPlanes, Rect } from './stroke';
import { ToolLayer, type Box } from './toolLayer';
import type { Tool } from './tools';
import { fitView, toImagePoint, wheelZoomFactor, zoomAbout, type Point, type Size, type View } from './zoomPan';

export type { OverlaySpec } from './imageLayers';

// Layer canvases are viewport-sized; at devicePixelRatio 2 Konva's default doubles them and a stroke fell to
// ~28 fps in the probe (TOOLCHAIN.md). Label pixels are drawn unsmoothed, so the loss in crispness is small.
Konva.pixelRatio = 1;

export interface CanvasCallbacks {
  onView(view: View): void;
  /** The image pixel under the pointer, or null outside the image; at most once a frame. */
  onHover(point: Point | null): void;
  /** After a tool's preview or busy state may have changed. */
  onToolChanged(): void;
  /** The ids of the image layers drawn so far ('rgb' and overlay ids), after each one loads. */
  onLayersLoaded(ids: string[]): void;
}

/** What the pointer is doing on the canvas. */
type Gesture = { kind: 'none' } | { kind: 'panning'; pointerId: number; from: Point; view: View } | { kind: 'drawing'; pointerId: number };

const BRUSH_TOOLS: ReadonlySet<string> = new Set(['brush', 'eraser', 'ignore']);

export class LabelCanvas {
  readonly perf = new PerfRecorder();
  private readonly stage: Konva.Stage;
  private readonly images: ImageLayers;
  private readonly correction = new CorrectionLayer();
  private readonly ui = new ToolLayer();

  private size: Size = { width: 0, height: 0 };
  private viewport: Size = { width: 0, height: 0 };
  private view: View = { scale: 1, x: 0, y: 0 };
  /** Until the user zooms or pans, the view fits the image and follows the viewport's size. */
  private userMovedView = false;
  /** The tool the pointer feeds; null: the image is view-only (no tool, a left drag pans). */
  private tool: Tool | null = null;
  private brushSize = 12;
  private spaceHeld = false;
  private gesture: Gesture = { kind: 'none' };
  /** Pointer points (image pixels) and their event times, waiting for the next frame. */
  private queued: { points: Point[]; stamps: number[] } = { points: [], stamps: [] };
  private dirty: Rect | null = null;
  private hover: Point | null = null;
  private frame = 0;
  private readonly resizeObserver: ResizeObserver;
  private readonly listeners: Array<[string, EventListener, AddEventListenerOptions?]>;

  constructor(
    private readonly container: HTMLDivElement,
    private readonly callbacks: CanvasCallbacks,
  ) {
    this.stage = new Konva.Stage({ container, width: container.clientWidth || 1, height: container.clientHeight || 1 });
    this.images = new ImageLayers((ids) => callbacks.onLayersLoaded(ids));
    this.stage.add(this.images.layer, this.correction.layer, this.ui.layer);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.listeners = [
      ['pointerdown', (e) => this.pointerDown(e as PointerEvent)],
      ['pointermove', (e) => this.pointerMove(e as PointerEvent)],
      ['pointerup', (e) => this.pointerUp(e as PointerEvent)],
      ['pointercancel', (e) => this.pointerUp(e as PointerEvent)],
      ['pointerleave', () => this.leave()],
      ['wheel', (e) => this.wheel(e as WheelEvent), { passive: false }],
      ['contextmenu', (e) => e.preventDefault()],
    ];
    for (const [type, listener, options] of this.listeners) container.addEventListener(type, listener, options);
    this.resize();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObserver.disconnect();
    for (const [type, listener, options] of this.listeners) this.container.removeEventListener(type, listener, options);
    this.stage.destroy();
  }

  /** A new image: its size and RGB; the view fits it until the user zooms or pans. */
  setImage(size: Size, rgbUrl: string): void {
    this.size = size;
    this.userMovedView = false;
    this.view = fitView(size, this.viewport);
    this.images.setImage(size, rgbUrl);
    this.applyView();
  }

  /** Read-only layers over the RGB, bottom to top. Loads each URL once; hidden ones are not fetched. */
  setOverlays(specs: readonly OverlaySpec[]): void {
    this.images.setOverlays(specs);
  }

  /** The label map to show and edit (null: none, e.g. while loading). Paints it whole once. */
  setPlanes(planes: EditorPlanes | null): void {
    this.correction.setPlanes(planes);
  }

  /** How the correction shows; `peek` hides every layer but the bare image (hold-to-peek). */
  setCorrectionStyle(style: CorrectionStyle): void {
    this.correction.setStyle(style);
    this.images.setPeek(style.peek);
  }

  /** Pixels changed outside a pointer gesture (undo, redo, a region tool): redraw them on the next frame. */
  invalidate(rect: Rect | null): void {
    if (!rect) return;
    this.dirty = unionRect(this.dirty, rect);
    this.schedule();
  }

  /** The tool the pointer feeds, or null while the image cannot be edited. */
  setTool(tool: Tool | null): void {
    this.tool = tool;
    this.container.style.cursor = tool ? 'none' : 'default';
    this.updateCursor();
    this.drawPreview();
  }

  setBrushSize(size: number): void {
    this.brushSize = size;
    this.updateCursor();
    this.ui.layer.batchDraw();
  }

  setSpaceHeld(held: boolean): void {
    this.spaceHeld = held;
    this.container.style.cursor = held ? 'grab' : this.tool ? 'none' : 'default';
  }

  /**
   * Outline a region (image pixels) and, when `zoom`, bring it into view with some context around it. With its
   * superpixel map the region's own shape is tinted and edged; otherwise only its box is drawn.
   */
  showRegion(box: Box | null, zoom: boolean, shape: RegionShape | null = null): void {
    this.ui.setRegion(box, shape);
    if (box && zoom) {
      const pad = Math.max(box.width, box.height) * 0.75 + 16;
      const fitted = fitView({ width: box.width + 2 * pad, height: box.height + 2 * pad }, this.viewport, 0);
      const scale = Math.min(fitted.scale, 8);
      this.setView({ scale, x: this.viewport.width / 2 - (box.x + box.width / 2) * scale, y: this.viewport.height / 2 - (box.y + box.height / 2) * scale });
    }
    this.ui.layer.batchDraw();
  }

  getView(): View {
    return this.view;
  }

  setView(view: View): void {
    this.userMovedView = true;
    this.view = view;
    this.applyView();
  }

  /** Zoom by `factor` about the viewport's centre. */
  zoomBy(factor: number): void {
    this.setView(zoomAbout(this.view, factor, { x: this.viewport.width / 2, y: this.viewport.height / 2 }));
  }

  fit(): void {
    this.userMovedView = false;
    this.view = fitView(this.size, this.viewport);
    this.applyView();
  }

  /** Image pixels per screen pixel now. */
  imagePixelsPerScreenPixel(): number {
    return 1 / this.view.scale;
  }

  drawPreview(): void {
    this.ui.setPreview(this.tool?.preview() ?? null);
    this.ui.layer.batchDraw();
  }

  private resize(): void {
    this.viewport = { width: this.container.clientWidth, height: this.container.clientHeight };
    this.stage.size({ width: Math.max(1, this.viewport.width), height: Math.max(1, this.viewport.height) });
    if (!this.userMovedView) this.view = fitView(this.size, this.viewport);
    this.applyView();
  }

  private applyView(): void {
    this.stage.scale({ x: this.view.scale, y: this.view.scale });
    this.stage.position({ x: this.view.x, y: this.view.y });
    this.stage.batchDraw();
    this.callbacks.onView(this.view);
  }

  private local(event: PointerEvent | WheelEvent): Point {
    const bounds = this.container.getBoundingClientRect();
    return { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
  }

  private pointerDown(event: PointerEvent): void {
    this.container.focus({ preventScroll: true });
    const panButton = event.button === 1 || event.button === 2 || (event.button === 0 && (this.spaceHeld || !this.tool));
    if (panButton) {
      event.preventDefault();
      this.container.setPointerCapture(event.pointerId);
      this.gesture = { kind: 'panning', pointerId: event.pointerId, from: this.local(event), view: this.view };
      this.container.style.cursor = 'grabbing';
      return;
    }
    if (event.button !== 0 || !this.tool || !this.correction.hasPlanes) return;
    event.preventDefault();
    this.container.setPointerCapture(event.pointerId);
    this.gesture = { kind: 'drawing', pointerId: event.pointerId };
    this.tool.down(toImagePoint(this.view, this.local(event)));
    this.callbacks.onToolChanged();
    this.drawPreview();
  }

  private pointerMove(event: PointerEvent): void {
    const started = performance.now();
    const gesture = this.gesture;
    if (gesture.kind === 'panning' && gesture.pointerId === event.pointerId) {
      const p = this.local(event);
      this.view = { scale: gesture.view.scale, x: gesture.view.x + p.x - gesture.from.x, y: gesture.view.y + p.y - gesture.from.y };
      this.userMovedView = true;
      this.applyView();
      return;
    }
    const bounds = this.container.getBoundingClientRect();
    const drawing = gesture.kind === 'drawing' && gesture.pointerId === event.pointerId;
    const events = drawing && event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const list = events.length ? events : [event];
    for (const e of list) {
      this.queued.points.push(toImagePoint(this.view, { x: e.clientX - bounds.left, y: e.clientY - bounds.top }));
      this.queued.stamps.push(e.timeStamp);
    }
    this.hover = this.queued.points.at(-1)!;
    this.schedule();
    this.perf.handler(performance.now() - started, list.length);
  }

  private pointerUp(event: PointerEvent): void {
    const gesture = this.gesture;
    if (gesture.kind === 'panning' && gesture.pointerId === event.pointerId) {
      this.gesture = { kind: 'none' };
      this.setSpaceHeld(this.spaceHeld);
      return;
    }
    if (gesture.kind !== 'drawing' || gesture.pointerId !== event.pointerId) return;
    this.gesture = { kind: 'none' };
    // Finish at once rather than on the next frame, so a quick stroke is committed before anything else happens.
    this.flush(toImagePoint(this.view, this.local(event)));
  }

  private leave(): void {
    this.hover = null;
    this.schedule();
  }

  private wheel(event: WheelEvent): void {
    event.preventDefault();
    this.setView(zoomAbout(this.view, wheelZoomFactor(event.deltaY, event.deltaMode), this.local(event)));
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush(null));
  }

  /** Feeds the queued points to the tool (and the pointer's release, when `releasedAt`), then draws once. */
  private flush(releasedAt: Point | null): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const { points, stamps } = this.queued;
    this.queued = { points: [], stamps: [] };
    const tool = this.tool;
    const drawing = tool !== null && (this.gesture.kind === 'drawing' || releasedAt !== null);
    if (drawing && points.length) tool.move(points);
    else if (tool && points.length && !tool.busy) tool.move(points.slice(-1)); // polygon rubber band
    if (releasedAt && tool) {
      tool.up(releasedAt);
      this.callbacks.onToolChanged();
    }
    if (this.dirty) {
      this.correction.paint(this.dirty);
      this.dirty = null;
      this.correction.layer.draw();
    }
    this.updateCursor();
    if (tool?.preview() || this.ui.showsPreview) this.drawPreview();
    else this.ui.layer.draw();
    this.callbacks.onHover(this.hover && insideImage(this.hover, this.size) ? this.hover : null);
    const now = performance.now();
    if (drawing) for (const t of stamps) this.perf.frame(now - t);
  }

  private updateCursor(): void {
    const show = this.hover !== null && this.tool !== null && !this.spaceHeld && this.gesture.kind !== 'panning';
    if (!show) return this.ui.setCursor(null);
    const brush = BRUSH_TOOLS.has(this.tool!.name);
    this.ui.setCursor({ at: this.hover!, radius: brush ? Math.max(0.5, this.brushSize / 2) : 3 / this.view.scale });
  }
}
