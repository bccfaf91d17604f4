// Pointer-to-paint timing, kept in the page so the e2e run (and a curious user, via the console) can read it:
// how long the pointermove handler ran, and how long each input point waited until the frame that drew it.

export interface PerfSummary {
  events: number;
  points: number;
  handlerMsMax: number;
  handlerMsP95: number;
  frameMsP50: number;
  frameMsP95: number;
  /** Main-thread time to turn a finished stroke into the bytes sent (net change, encoding, base64). */
  saveMsMax: number;
}

const KEEP = 20_000;

export class PerfRecorder {
  private handlerMs: number[] = [];
  private frameMs: number[] = [];
  private saveMs: number[] = [];
  private points = 0;

  handler(ms: number, points: number): void {
    if (this.handlerMs.length < KEEP) this.handlerMs.push(ms);
    this.points += points;
  }

  frame(ms: number): void {
    if (this.frameMs.length < KEEP) this.frameMs.push(ms);
  }

  save(ms: number): void {
    if (this.saveMs.length < KEEP) this.saveMs.push(ms);
  }

  reset(): void {
    this.handlerMs = [];
    this.frameMs = [];
    this.saveMs = [];
    this.points = 0;
  }

  summary(): PerfSummary {
    return {
      events: this.handlerMs.length,
      points: this.points,
      handlerMsMax: Math.max(0, ...this.handlerMs),
      handlerMsP95: percentile(this.handlerMs, 0.95),
      frameMsP50: percentile(this.frameMs, 0.5),
      frameMsP95: percentile(this.frameMs, 0.95),
      saveMsMax: Math.max(0, ...this.saveMs),
    };
  }
}

export function percentile(values: readonly number[], q: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
