// The editor's canvas: Konva, no React. One layer holds the RGB image and the read-only overlays, one the
// correction (an image-sized offscreen canvas painted from the label map, dirty rectangles only), one the
// cursor and tool previews. Pointer moves only queue their (coalesced) points; one animation frame feeds them
// to the tool and draws once. Zoom and pan are the pure functions of viewer/zoomPan.ts.
import Konva from 'konva';
import { TRAIN_CLASSES } from '../../../shared/labels';
import { toImagePoint, wheelZoomFactor, zoomAbout, fitView, type Size, type View } from '../viewer/zoomPan';
import { PerfRecorder } from './perf';
import type { Point } from './regionFill';
import type { EditorPlanes, Rect } from './stroke';
import type { Tool } from './tools';

// Layer canvases are viewport-sized; at devicePixelRatio 2 Konva's default doubles them and a stroke fell to
// ~28 fps in the probe (TOOLCHAIN.md). Label pixels are drawn unsmoothed, so the loss in crispness is small.
Konva.pixelRatio = 1;

export interface OverlaySpec {
  id: string;
  url: string;
  visible: boolean;
  opacity: number;
}

export interface CanvasCallbacks {
  onView(view: View): void;
  /** The image pixel under the pointer, or null outside the image; at most once a frame. */
  onHover(point: Point | null): void;
  /** After a tool's preview or busy state may have changed. */
  onToolChanged(): void;
  /** The ids of the image layers drawn so far ('rgb' and overlay ids), after each one loads. */
  onLayersLoaded(ids: string[]): void;
}

/** Palette as little-endian RGBA words: one 32-bit write per pixel. */
const PALETTE = (() => {
  const words = new Uint32Array(256);
  for (const c of TRAIN_CLASSES) words[c.trainId] = (255 << 24) | (c.color[2] << 16) | (c.color[1] << 8) | c.color[0];
  return words;
})();
const HUMAN_MARK = (110 << 24) | (255 << 16) | (255 << 8) | 255;

export class LabelCanvas {
  readonly perf = new PerfRecorder();
  private readonly stage: Konva.Stage;
  private readonly imageLayer = new Konva.Layer({ listening: false });
  private readonly labelLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
  private readonly uiLayer = new Konva.Layer({ listening: false, imageSmoothingEnabled: false });
  private readonly rgb = new Konva.Image({ image: undefined, x: 0, y: 0 });
  private readonly overlays = new Map<string, Konva.Image>();
  private readonly labelsNode = new Konva.Image({ image: undefined, x: 0, y: 0 });
  private readonly humanNode = new Konva.Image({ image: undefined, x: 0, y: 0, visible: false });
  private readonly cursor = new Konva.Circle({ radius: 5, stroke: '#fff', strokeWidth: 1.5, strokeScaleEnabled: false, visible: false, shadowColor: '#000', shadowBlur: 2 });
  private readonly path = new Konva.Line({ points: [], stroke: '#ffeb3b', strokeWidth: 2, strokeScaleEnabled: false, dash: [6, 4], visible: false });
  private readonly regionMask = new Konva.Image({ image: undefined, visible: false });
  private readonly region = new Konva.Rect({ stroke: '#00e5ff', strokeWidth: 2, strokeScaleEnabled: false, dash: [8, 4], visible: false });

  private planes: EditorPlanes | null = null;
  private labelCanvas: HTMLCanvasElement | null = null;
  private labelImage: ImageData | null = null;
  private humanCanvas: HTMLCanvasElement | null = null;
  private humanImage: ImageData | null = null;
  private size: Size = { width: 0, height: 0 };
  private viewport: Size = { width: 0, height: 0 };
  private view: View = { scale: 1, x: 0, y: 0 };
  private userMovedView = false;
  private tool: Tool | null = null;
  private editable = false;
  private brushSize = 12;
  private spaceHeld = false;
  private pan: { pointerId: number; x: number; y: number; view: View } | null = null;
  private toolPointer: number | null = null;
  private queued: Point[] = [];
  private queuedStamps: number[] = [];
  private pendingUp: Point | null = null;
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
    this.imageLayer.add(this.rgb);
    this.labelLayer.add(this.labelsNode, this.humanNode);
    this.uiLayer.add(this.regionMask, this.region, this.path, this.cursor);
    this.stage.add(this.imageLayer, this.labelLayer, this.uiLayer);
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
    this.rgb.size(size);
    this.rgb.image(undefined);
    // Overlays may have been created before the image's size was known (the ground truth, ticked by default, is
    // set before the rounds are listed and setImage runs); without this they stay zero-sized, loaded but undrawn.
    for (const node of this.overlays.values()) node.size(size);
    this.imageLayer.batchDraw();
    loadImage(rgbUrl).then((img) => {
      if (this.size === size) {
        this.rgb.image(img);
        this.imageLayer.batchDraw();
        this.reportLoaded();
      }
    }, () => undefined);
    this.reportLoaded();
    this.applyView();
  }

  /** Read-only layers over the RGB, bottom to top. Loads each URL once; hidden ones are not fetched. */
  setOverlays(specs: readonly OverlaySpec[]): void {
    const wanted = new Set(specs.map((s) => s.id + s.url));
    for (const [key, node] of this.overlays) {
      if (!wanted.has(key)) {
        node.destroy();
        this.overlays.delete(key);
      }
    }
    for (const spec of specs) {
      const key = spec.id + spec.url;
      let node = this.overlays.get(key);
      if (!node && spec.visible) {
        const created = new Konva.Image({ image: undefined, ...this.size, name: spec.id });
        node = created;
        this.overlays.set(key, created);
        this.imageLayer.add(created);
        loadImage(spec.url).then(
          (img) => {
            created.image(img);
            created.size(this.size);
            this.imageLayer.batchDraw();
            this.reportLoaded();
          },
          () => undefined,
        );
      }
      if (!node) continue;
      node.size(this.size);
      node.visible(spec.visible);
      node.setAttr('chosenOpacity', spec.opacity);
      node.opacity(spec.opacity);
      node.moveToTop();
    }
    this.imageLayer.batchDraw();
    this.reportLoaded();
  }

  /** The label map to show and edit (null: none, e.g. while loading). Paints it whole once. */
  setPlanes(planes: EditorPlanes | null): void {
    this.planes = planes;
    if (!planes) {
      this.labelsNode.image(undefined);
      this.humanNode.image(undefined);
      this.labelLayer.batchDraw();
      return;
    }
    const { width, height } = planes;
    this.labelCanvas = makeCanvas(width, height);
    this.humanCanvas = makeCanvas(width, height);
    this.labelImage = new ImageData(width, height);
    this.humanImage = new ImageData(width, height);
    this.labelsNode.setAttrs({ image: this.labelCanvas, width, height });
    this.humanNode.setAttrs({ image: this.humanCanvas, width, height });
    this.paint({ x0: 0, y0: 0, x1: width - 1, y1: height - 1 });
    this.labelLayer.batchDraw();
  }

  /** How the correction shows; `peek` hides every layer but the bare image (hold-to-peek). */
  setCorrectionStyle(style: { visible: boolean; opacity: number; showHuman: boolean; peek: boolean }): void {
    this.labelsNode.visible(style.visible && !style.peek);
    this.labelsNode.opacity(style.opacity);
    this.humanNode.visible(style.showHuman && !style.peek);
    this.imageLayer.visible(true);
    for (const node of this.overlays.values()) node.opacity(style.peek ? 0 : Number(node.getAttr('chosenOpacity') ?? 1));
    this.labelLayer.batchDraw();
    this.imageLayer.batchDraw();
  }

  /** Pixels changed outside a pointer gesture (undo, redo, a region tool): redraw them on the next frame. */
  invalidate(rect: Rect | null): void {
    if (!rect) return;
    this.dirty = union(this.dirty, rect);
    this.schedule();
  }

  setTool(tool: Tool | null, editable: boolean): void {
    this.tool = tool;
    this.editable = editable;
    this.container.style.cursor = editable && tool ? 'none' : 'default';
    this.updateCursor();
    this.drawPreview();
  }

  setBrushSize(size: number): void {
    this.brushSize = size;
    this.updateCursor();
    this.uiLayer.batchDraw();
  }

  setSpaceHeld(held: boolean): void {
    this.spaceHeld = held;
    this.container.style.cursor = held ? 'grab' : this.editable && this.tool ? 'none' : 'default';
  }

  /**
   * Outline a region (image pixels) and, when `zoom`, bring it into view with some context around it. With its
   * superpixel map the region's own shape is tinted and edged; otherwise only its box is drawn.
   */
  showRegion(
    rect: { x: number; y: number; width: number; height: number } | null,
    zoom: boolean,
    shape: { superpixels: Uint16Array; width: number; id: number } | null = null,
  ): void {
    this.region.visible(rect !== null && shape === null);
    this.regionMask.visible(rect !== null && shape !== null);
    if (rect) {
      this.region.setAttrs(rect);
      if (shape) this.regionMask.setAttrs({ image: regionShape(rect, shape), ...rect });
      if (zoom) {
        const pad = Math.max(rect.width, rect.height) * 0.75 + 16;
        const box = { width: rect.width + 2 * pad, height: rect.height + 2 * pad };
        const fitted = fitView(box, this.viewport, 0);
        const scale = Math.min(fitted.scale, 8);
        this.setView({ scale, x: this.viewport.width / 2 - (rect.x + rect.width / 2) * scale, y: this.viewport.height / 2 - (rect.y + rect.height / 2) * scale });
      }
    }
    this.uiLayer.batchDraw();
  }

  getView(): View {
    return this.view;
  }

  setView(view: View): void {
    this.userMovedView = true;
    this.view = view;
    this.applyView();
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
    const preview = this.tool?.preview() ?? null;
    this.path.visible(preview !== null);
    if (preview) {
      this.path.points(preview.points.flatMap((p) => [p.x, p.y]));
      this.path.closed(preview.closed);
    }
    this.uiLayer.batchDraw();
  }

  private reportLoaded(): void {
    const ids = this.rgb.image() ? ['rgb'] : [];
    for (const node of this.overlays.values()) if (node.image()) ids.push(node.name());
    this.callbacks.onLayersLoaded(ids);
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
    const panButton = event.button === 1 || event.button === 2 || (event.button === 0 && (this.spaceHeld || !this.editable || !this.tool));
    if (panButton) {
      event.preventDefault();
      this.container.setPointerCapture(event.pointerId);
      const p = this.local(event);
      this.pan = { pointerId: event.pointerId, x: p.x, y: p.y, view: this.view };
      this.container.style.cursor = 'grabbing';
      return;
    }
    if (event.button !== 0 || !this.tool || !this.planes) return;
    event.preventDefault();
    this.container.setPointerCapture(event.pointerId);
    this.toolPointer = event.pointerId;
    this.tool.down(toImagePoint(this.view, this.local(event)));
    this.callbacks.onToolChanged();
    this.drawPreview();
  }

  private pointerMove(event: PointerEvent): void {
    const started = performance.now();
    if (this.pan && this.pan.pointerId === event.pointerId) {
      const p = this.local(event);
      this.view = { scale: this.pan.view.scale, x: this.pan.view.x + p.x - this.pan.x, y: this.pan.view.y + p.y - this.pan.y };
      this.userMovedView = true;
      this.applyView();
      return;
    }
    const bounds = this.container.getBoundingClientRect();
    const events = this.toolPointer === event.pointerId && event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const list = events.length ? events : [event];
    for (const e of list) {
      this.queued.push(toImagePoint(this.view, { x: e.clientX - bounds.left, y: e.clientY - bounds.top }));
      this.queuedStamps.push(e.timeStamp);
    }
    this.hover = this.queued[this.queued.length - 1]!;
    this.schedule();
    this.perf.handler(performance.now() - started, list.length);
  }

  private pointerUp(event: PointerEvent): void {
    if (this.pan?.pointerId === event.pointerId) {
      this.pan = null;
      this.setSpaceHeld(this.spaceHeld);
      return;
    }
    if (this.toolPointer !== event.pointerId) return;
    this.toolPointer = null;
    this.pendingUp = toImagePoint(this.view, this.local(event));
    // Finish at once rather than on the next frame, so a quick stroke is committed before anything else happens.
    this.flush(performance.now());
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
    if (!this.frame) this.frame = requestAnimationFrame((t) => this.flush(t));
  }

  private flush(_frameTime: number): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const points = this.queued;
    const stamps = this.queuedStamps;
    this.queued = [];
    this.queuedStamps = [];
    const tool = this.tool;
    const drawing = tool && this.editable && (this.toolPointer !== null || this.pendingUp !== null);
    if (drawing && points.length) tool.move(points);
    else if (tool && points.length && !tool.busy) tool.move(points.slice(-1)); // polygon rubber band
    if (this.pendingUp && tool) {
      tool.up(this.pendingUp);
      this.pendingUp = null;
      this.callbacks.onToolChanged();
    }
    if (this.dirty) {
      this.paint(this.dirty);
      this.dirty = null;
      this.labelLayer.draw();
    }
    this.updateCursor();
    if (tool?.preview() || this.path.visible()) this.drawPreview();
    else this.uiLayer.draw();
    this.callbacks.onHover(this.hover && inside(this.hover, this.size) ? this.hover : null);
    const now = performance.now();
    if (drawing) for (const t of stamps) this.perf.frame(now - t);
  }

  private updateCursor(): void {
    const brush = this.tool && ['brush', 'eraser', 'ignore'].includes(this.tool.name);
    const show = this.hover !== null && this.editable && this.tool !== null && !this.spaceHeld && !this.pan;
    this.cursor.visible(show);
    if (!show) return;
    this.cursor.position(this.hover!);
    this.cursor.radius(brush ? Math.max(0.5, this.brushSize / 2) : 3 / this.view.scale);
  }

  /** Repaints a rectangle of the label and provenance canvases from the map. */
  private paint(rect: Rect): void {
    const planes = this.planes;
    if (!planes || !this.labelImage || !this.humanImage) return;
    const { width } = planes;
    const x0 = Math.max(0, rect.x0);
    const y0 = Math.max(0, rect.y0);
    const x1 = Math.min(width - 1, rect.x1);
    const y1 = Math.min(planes.height - 1, rect.y1);
    if (x1 < x0 || y1 < y0) return;
    const labelWords = new Uint32Array(this.labelImage.data.buffer);
    const humanWords = new Uint32Array(this.humanImage.data.buffer);
    for (let y = y0; y <= y1; y++) {
      for (let i = y * width + x0, end = y * width + x1; i <= end; i++) {
        labelWords[i] = PALETTE[planes.labels[i]!]!;
        humanWords[i] = planes.human[i] ? HUMAN_MARK : 0;
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    this.labelCanvas!.getContext('2d')!.putImageData(this.labelImage, 0, 0, x0, y0, w, h);
    this.humanCanvas!.getContext('2d')!.putImageData(this.humanImage, 0, 0, x0, y0, w, h);
  }
}

const REGION_EDGE = (255 << 24) | (255 << 16) | (229 << 8) | 0; // cyan, opaque
const REGION_FILL = (60 << 24) | (255 << 16) | (229 << 8) | 0; // cyan, faint

/** The region's superpixel inside its box: a faint fill with an opaque edge (pixels with a neighbour outside it). */
function regionShape(rect: { x: number; y: number; width: number; height: number }, shape: { superpixels: Uint16Array; width: number; id: number }): HTMLCanvasElement {
  const { superpixels, width, id } = shape;
  const height = superpixels.length / width;
  const canvas = makeCanvas(rect.width, rect.height);
  const image = new ImageData(rect.width, rect.height);
  const words = new Uint32Array(image.data.buffer);
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && superpixels[y * width + x] === id;
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const ix = rect.x + x;
      const iy = rect.y + y;
      if (!inside(ix, iy)) continue;
      const edge = !inside(ix - 1, iy) || !inside(ix + 1, iy) || !inside(ix, iy - 1) || !inside(ix, iy + 1);
      words[y * rect.width + x] = edge ? REGION_EDGE : REGION_FILL;
    }
  }
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  return canvas;
}

function makeCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`Could not load ${url}`));
    img.src = url;
  });
}

function union(a: Rect | null, b: Rect): Rect {
  if (!a) return { ...b };
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

function inside(p: Point, size: Size): boolean {
  return p.x >= 0 && p.y >= 0 && p.x < size.width && p.y < size.height;
}
