// Sends finished strokes, undos and redos to the project one at a time, in order. Each operation carries the
// revision it was made on, so the store refuses edits made on a stale copy. A failed save keeps the operation
// (the image stays dirty, with the reason) and is retried every 2 s, and at once when the connection to the
// server is back; nothing is marked saved until the store said so.
import type { CordaApi, CorrectionState, StrokeTool } from '../../../shared/api';
import { base64ToBytes, bytesToBase64, decodeDelta, encodeDelta, type LabelDelta } from '../../../shared/labelDelta';

export type SaveOp =
  | { kind: 'stroke'; delta: LabelDelta; tool: StrokeTool; classId: number | null; ms: number }
  | { kind: 'undo' }
  | { kind: 'redo' };

export interface SaveStatus {
  state: CorrectionState;
  /** Operations not yet confirmed by the store. */
  pending: number;
  /** Why the last attempt failed; cleared by the next success. */
  error: string | null;
  canUndo: boolean;
  canRedo: boolean;
}

const RETRY_MS = 2000;

export class SaveQueue {
  private readonly ops: SaveOp[] = [];
  private running = false;
  private error: string | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** While a retry is scheduled: stops listening for the reconnect that triggers it early. */
  private stopWaiting: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly api: Pick<CordaApi, 'applyStroke' | 'undoStroke' | 'redoStroke'>,
    private state: CorrectionState,
    private readonly baseRoundId: number | null,
    /** Applies a delta the store sent back (undo / redo) to the local map. */
    private readonly applyRemote: (delta: LabelDelta) => void,
    private readonly onStatus: (status: SaveStatus) => void,
    /** Reports the main-thread milliseconds spent encoding each stroke. */
    private readonly onEncoded: (ms: number) => void = () => undefined,
    /** Subscribes to the connection coming back (web mode's `onReconnect`); returns the unsubscribe. */
    private readonly onReconnect: (listener: () => void) => () => void = () => () => undefined,
  ) {}

  push(op: SaveOp): void {
    this.ops.push(op);
    this.report();
    void this.drain();
  }

  status(): SaveStatus {
    // What undo / redo can do once the queued operations are through.
    let depth = this.state.version;
    let redo = this.state.canRedo ? 1 : 0;
    for (const op of this.ops) {
      if (op.kind === 'stroke') {
        depth++;
        redo = 0;
      } else if (op.kind === 'undo') {
        depth = Math.max(0, depth - 1);
        redo++;
      } else {
        depth++;
        redo = Math.max(0, redo - 1);
      }
    }
    return { state: this.state, pending: this.ops.length, error: this.error, canUndo: depth > 0, canRedo: redo > 0 };
  }

  /** Stops retrying; what is still queued is reported by `status().pending`. */
  close(): void {
    this.closed = true;
    this.cancelRetry();
  }

  /** Retry now (a "Retry" button, the connection back), instead of waiting for the timer. */
  retry(): void {
    this.cancelRetry();
    void this.drain();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => this.retry(), RETRY_MS);
    this.stopWaiting = this.onReconnect(() => this.retry());
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopWaiting?.();
    this.stopWaiting = null;
  }

  private async drain(): Promise<void> {
    if (this.running || this.closed || this.retryTimer) return;
    this.running = true;
    try {
      while (this.ops.length && !this.closed) {
        const op = this.ops[0]!;
        try {
          await this.send(op);
          this.ops.shift();
          this.error = null;
        } catch (error) {
          this.error = error instanceof Error ? error.message : String(error);
          this.scheduleRetry();
          return;
        } finally {
          this.report();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async send(op: SaveOp): Promise<void> {
    const { imageId, revision } = this.state;
    if (op.kind === 'stroke') {
      const started = performance.now();
      const delta = bytesToBase64(encodeDelta(op.delta));
      this.onEncoded(performance.now() - started);
      this.state = await this.api.applyStroke({
        imageId,
        baseRevision: revision,
        baseRoundId: this.baseRoundId,
        tool: op.tool,
        classId: op.classId,
        delta,
        ms: op.ms,
      });
      return;
    }
    const call = op.kind === 'undo' ? this.api.undoStroke : this.api.redoStroke;
    const reply = await call({ imageId, baseRevision: revision });
    this.state = reply.state;
    this.applyRemote(decodeDelta(base64ToBytes(reply.delta), reply.state.width * reply.state.height));
  }

  private report(): void {
    this.onStatus(this.status());
  }
}
