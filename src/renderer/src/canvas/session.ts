// One image being corrected: loads the label map and what the tools read, hosts the tools, sends each
// finished stroke to the save queue, applies undo / redo from the store. React reads it through
// `subscribe` / `snapshot` (useSyncExternalStore) and never owns the pixels. The transport is passed in.
import type { CordaApi, CorrectionRaw, ImageSummary, RoundRaw } from '../../../shared/api';
import { applyDelta, forEachDeltaPixel, type LabelDelta } from '../../../shared/labelDelta';
import { IGNORE } from '../../../shared/labels';
import type { LabelCanvas } from './labelCanvas';
import { SaveQueue, type SaveStatus } from './saveQueue';
import { Stroke, protectionTable, type EditorPlanes, type PaintMode, type Rect } from './stroke';
import { createTool, type Tool, type ToolHost, type ToolName } from './tools';

export interface SessionSnapshot {
  phase: 'loading' | 'ready' | 'failed';
  error: string | null;
  save: SaveStatus | null;
  tool: ToolName;
  classId: number;
  brushSize: number;
  protectedClasses: readonly number[];
  /** A gesture is in progress (undo waits). */
  busy: boolean;
  baseRoundId: number | null;
  hasSecond: boolean;
  hasSuperpixels: boolean;
  /** A short message about the last refused action (e.g. undo mid-stroke). */
  notice: string | null;
}

export const BRUSH_SIZES = { min: 1, max: 200 } as const;

/** What a session needs from the connection to the project. */
export interface SessionTransport {
  api: Pick<CordaApi, 'getCorrection' | 'applyStroke' | 'undoStroke' | 'redoStroke'>;
  /** A round's raw buffer at the image's resolution; rejects with a sentence naming `what`. */
  roundRaw(imageId: number, roundId: number, raw: RoundRaw, what: string): Promise<Uint8Array>;
  /** The stored correction's labels or edit mask, raw bytes at the image's resolution. */
  correctionRaw(imageId: number, raw: CorrectionRaw, what: string): Promise<Uint8Array>;
  /** Subscribes to the connection coming back after it was lost; returns the unsubscribe. */
  onReconnect(listener: () => void): () => void;
}

/** The part of the canvas a session draws through. */
export type SessionCanvas = Pick<LabelCanvas, 'setPlanes' | 'invalidate' | 'imagePixelsPerScreenPixel' | 'perf'>;

export class EditorSession implements ToolHost {
  planes: EditorPlanes;
  private tool: Tool;
  private queue: SaveQueue | null = null;
  private strokeStarted = 0;
  private listeners = new Set<() => void>();
  private current: SessionSnapshot;
  private disposed = false;
  /** The superpixel strokes are kept inside (the queued region's), or null. */
  private confinedTo: number | null = null;

  constructor(
    private readonly transport: SessionTransport,
    private readonly canvas: SessionCanvas,
    readonly image: Pick<ImageSummary, 'id' | 'width' | 'height'>,
    /** The round to start from when the image has no correction yet (the dataset's latest), or null. */
    private readonly latestRoundId: number | null,
    readonly editable: boolean,
    initial: Pick<SessionSnapshot, 'tool' | 'classId' | 'brushSize' | 'protectedClasses'>,
  ) {
    const n = image.width * image.height;
    this.planes = { width: image.width, height: image.height, labels: new Uint8Array(n), human: new Uint8Array(n), model: new Uint8Array(n), second: null, superpixels: null };
    this.current = { phase: 'loading', error: null, save: null, busy: false, baseRoundId: null, hasSecond: false, hasSuperpixels: false, notice: null, ...initial };
    this.tool = createTool(initial.tool, this, () => canvas.imagePixelsPerScreenPixel());
  }

  get classId(): number {
    return this.current.classId;
  }

  get brushSize(): number {
    return this.current.brushSize;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): SessionSnapshot => this.current;

  async load(): Promise<void> {
    const { id, width, height } = this.image;
    try {
      const state = await this.transport.api.getCorrection({ imageId: id });
      if (state.width !== width || state.height !== height) throw new Error(`The stored correction is ${state.width}×${state.height} but the image is ${width}×${height}; the file changed on disk.`);
      const baseRoundId = state.version > 0 ? state.baseRoundId : this.latestRoundId;
      const n = width * height;
      const sized = (bytes: Uint8Array, what: string, perPixel = 1) => {
        if (bytes.length !== n * perPixel) throw new Error(`The ${what} has the wrong size for this ${width}×${height} image.`);
        return bytes;
      };
      const optional = (p: Promise<Uint8Array>) => p.catch(() => null);
      const [model, second, superpixels, labels, human] = await Promise.all([
        baseRoundId ? this.transport.roundRaw(id, baseRoundId, 'prediction', 'model prediction').then((b) => sized(b, 'model prediction')) : Promise.resolve(new Uint8Array(n).fill(IGNORE)),
        baseRoundId ? optional(this.transport.roundRaw(id, baseRoundId, 'second', 'second choice')) : null,
        baseRoundId ? optional(this.transport.roundRaw(id, baseRoundId, 'superpixels', 'superpixels')) : null,
        state.version > 0 ? this.transport.correctionRaw(id, 'labels', 'correction').then((b) => sized(b, 'correction')) : null,
        state.version > 0 ? this.transport.correctionRaw(id, 'human', 'edit mask').then((b) => sized(b, 'edit mask')) : null,
      ]);
      if (this.disposed) return;
      this.planes = {
        width,
        height,
        model,
        labels: labels ?? model.slice(),
        human: human ?? new Uint8Array(n),
        second: second && second.length === n ? second : null,
        superpixels: superpixels && superpixels.length === 2 * n ? new Uint16Array(superpixels.buffer, superpixels.byteOffset, n) : null,
      };
      this.queue?.close();
      this.queue = new SaveQueue(
        this.transport.api,
        state,
        baseRoundId,
        (delta) => this.applyRemote(delta),
        (save) => this.update({ save }),
        (ms) => this.canvas.perf.save(ms),
        (listener) => this.transport.onReconnect(listener),
      );
      this.canvas.setPlanes(this.planes);
      this.update({ phase: 'ready', error: null, baseRoundId, hasSecond: this.planes.second !== null, hasSuperpixels: this.planes.superpixels !== null, save: this.queue.status() });
    } catch (error) {
      if (!this.disposed) this.update({ phase: 'failed', error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Drops unsaved work and loads the stored correction again (after a stale-edit refusal). */
  async reload(): Promise<void> {
    this.queue?.close();
    this.queue = null;
    this.update({ phase: 'loading', save: null });
    await this.load();
  }

  /**
   * After the connection to the server came back: load again when loading had failed, or when nothing is waiting
   * to be saved and the stored correction moved on meanwhile (another window, another start of the server).
   * Queued work is left to the save queue, which sends it itself; a refused stale edit then says so and offers
   * the reload.
   */
  async refresh(): Promise<void> {
    if (!this.disposed && this.current.phase === 'failed') return this.reload();
    const queue = this.queue;
    if (this.disposed || this.current.phase !== 'ready' || !queue || queue.status().pending > 0) return;
    const revision = queue.status().state.revision;
    const stored = await this.transport.api.getCorrection({ imageId: this.image.id }).catch(() => null);
    const untouched = this.queue === queue && queue.status().pending === 0 && queue.status().state.revision === revision;
    if (!stored || this.disposed || this.tool.busy || !untouched || stored.revision === revision) return;
    await this.reload();
  }

  /** Stops listening; strokes still queued keep being sent (a stroke is never dropped by leaving the image). */
  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }

  /** The tool the canvas should feed, or null while the image cannot be edited. */
  activeTool(): Tool | null {
    return this.editable && this.current.phase === 'ready' ? this.tool : null;
  }

  setTool(name: ToolName): void {
    if (this.tool.busy) return this.update({ notice: 'Finish or cancel (Esc) the current stroke first.' });
    this.tool = createTool(name, this, () => this.canvas.imagePixelsPerScreenPixel());
    this.update({ tool: name, notice: null });
  }

  setClass(classId: number): void {
    this.update({ classId, notice: null });
  }

  setBrushSize(size: number): void {
    this.update({ brushSize: Math.round(Math.min(BRUSH_SIZES.max, Math.max(BRUSH_SIZES.min, size))) });
  }

  toggleProtected(classId: number): void {
    const set = new Set(this.current.protectedClasses);
    if (set.has(classId)) set.delete(classId);
    else set.add(classId);
    this.update({ protectedClasses: [...set].sort((a, b) => a - b) });
  }

  /**
   * Keeps every stroke inside superpixel `id` of the base round (the queued region), or lets strokes go
   * anywhere (null). Without the base round's superpixels there is nothing to keep inside: strokes are free.
   */
  confineTo(id: number | null): void {
    this.confinedTo = id;
  }

  undo(): void {
    this.history('undo');
  }

  redo(): void {
    this.history('redo');
  }

  retrySave(): void {
    this.queue?.retry();
  }

  key(key: string): boolean {
    const used = this.tool.key(key);
    if (used) this.toolChanged();
    return used;
  }

  /** After the canvas fed the tool: refresh `busy`. */
  toolChanged(): void {
    if (this.current.busy !== this.tool.busy) this.update({ busy: this.tool.busy });
  }

  // ToolHost
  begin(mode: PaintMode): Stroke {
    this.strokeStarted = performance.now();
    const { superpixels } = this.planes;
    const confine = this.confinedTo !== null && superpixels ? { superpixels, id: this.confinedTo } : null;
    return new Stroke(this.planes, mode, protectionTable(this.current.protectedClasses), confine);
  }

  changed(stroke: Stroke): void {
    this.canvas.invalidate(stroke.takeDirty());
  }

  commit(stroke: Stroke, tool: ToolName): void {
    this.canvas.invalidate(stroke.takeDirty());
    const started = performance.now();
    const delta = stroke.finish();
    this.canvas.perf.save(performance.now() - started);
    if (!delta || !this.queue) return;
    const classId = tool === 'brush' || tool === 'fill' || tool === 'polygon' || tool === 'lasso' || tool === 'superpixel' ? this.current.classId : tool === 'ignore' ? IGNORE : null;
    this.queue.push({ kind: 'stroke', delta, tool, classId, ms: Math.round(performance.now() - this.strokeStarted) });
  }

  cancel(stroke: Stroke): void {
    this.canvas.invalidate(stroke.cancel());
  }

  private history(kind: 'undo' | 'redo'): void {
    if (!this.queue || this.current.phase !== 'ready') return;
    if (this.tool.busy) return this.update({ notice: `Can't ${kind} in the middle of a stroke; finish it or press Esc.` });
    const status = this.queue.status();
    if (kind === 'undo' ? !status.canUndo : !status.canRedo) return this.update({ notice: `Nothing to ${kind}.` });
    this.update({ notice: null });
    this.queue.push({ kind });
  }

  private applyRemote(delta: LabelDelta): void {
    applyDelta(this.planes, delta);
    let rect: Rect | null = null;
    const w = this.planes.width;
    forEachDeltaPixel(delta, (i) => {
      const x = i % w;
      const y = (i - x) / w;
      if (!rect) rect = { x0: x, y0: y, x1: x, y1: y };
      else {
        rect.x0 = Math.min(rect.x0, x);
        rect.x1 = Math.max(rect.x1, x);
        rect.y0 = Math.min(rect.y0, y);
        rect.y1 = Math.max(rect.y1, y);
      }
    });
    this.canvas.invalidate(rect);
  }

  private update(patch: Partial<SessionSnapshot>): void {
    this.current = { ...this.current, ...patch };
    for (const listener of this.listeners) listener();
  }
}
