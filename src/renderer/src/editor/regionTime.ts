// Time per region in the region queue: how long a visit lasted (from the jump to the region to Done / Skip)
// and what the queue's summary says about it.
import type { RegionStats } from '../../../shared/api';

/** The longest visit recorded; a longer one is a person who walked away, so the visit is left untimed. */
export const MAX_VISIT_SECONDS = 3600;

/** Seconds between two performance.now() readings, or undefined when the visit is not worth recording. */
export function visitSeconds(sinceMs: number, nowMs: number): number | undefined {
  const seconds = (nowMs - sinceMs) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_VISIT_SECONDS ? Math.round(seconds * 10) / 10 : undefined;
}

/** A duration in the unit a person reads at a glance: seconds, minutes, then hours. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** "3 done · 1 skipped · 2 covered · 40 open". */
export function regionCountsText(stats: RegionStats): string {
  return [`${stats.done} done`, `${stats.skipped} skipped`, `${stats.covered} covered`, `${stats.open.toLocaleString()} open`].join(' · ');
}

/** "≈ 12 s per region · 40 min for the 200 open", from the median visit; null until a visit is timed. */
export function regionTimeText(stats: RegionStats): string | null {
  if (stats.medianSeconds === null) return null;
  const per = `≈ ${formatDuration(stats.medianSeconds)} per region`;
  return stats.open > 0 ? `${per} · ${formatDuration(stats.medianSeconds * stats.open)} for the ${stats.open.toLocaleString()} open` : per;
}
