// "Next hardest region" across the target training images (the split rounds learn from), and the budget meter:
// the share of target training pixels corrected, with marks at 2.2 % (RIPU's budget for 69.6 mIoU on
// GTA5→Cityscapes, a share of the target training set) and 5 %. Each visit is timed from the jump to the region
// to Done / Skip; the queue shows its counts by state and the median time per region.
import { useEffect, useRef } from 'react';
import type { Budget, Region, RegionStats } from '../../../shared/api';
import { regionCountsText, regionTimeText, visitSeconds } from './regionTime';

interface RegionQueueProps {
  region: Region | null;
  budget: Budget | null;
  stats: RegionStats | null;
  busy: boolean;
  message: string | null;
  onNext: () => void;
  /** `seconds`: the visit's time, when it is worth recording. */
  onMark: (state: 'done' | 'skipped', seconds: number | undefined) => void;
  /** Strokes are kept inside the region's superpixel (when it is on this image and the editor holds its shape). */
  lock: boolean;
  lockApplies: boolean;
  onLock: (on: boolean) => void;
}

const MARKS = [0.022, 0.05];
/** The meter's full width: a little past the last mark so both marks are readable. */
const METER_MAX = 0.06;

export function RegionQueue({ region, budget, stats, busy, message, onNext, onMark, lock, lockApplies, onLock }: RegionQueueProps) {
  const share = budget?.share ?? 0;
  // The visit's clock starts when the editor jumps to a region (a new region id here).
  const visit = useRef<{ regionId: number; since: number } | null>(null);
  const regionId = region?.id ?? null;
  useEffect(() => {
    visit.current = regionId === null ? null : { regionId, since: performance.now() };
  }, [regionId]);
  function mark(state: 'done' | 'skipped') {
    const clock = visit.current;
    onMark(state, clock && clock.regionId === regionId ? visitSeconds(clock.since, performance.now()) : undefined);
  }
  const timeText = stats && regionTimeText(stats);
  return (
    <section className="regions" aria-label="Region queue" data-testid="region-queue">
      <h3 className="panel__title">Hardest regions</h3>
      <div className="budget" title="Share of the target training split's pixels a person has corrected (rounds learn from that split only)">
        <div className="budget__bar">
          <div className="budget__fill" style={{ width: `${Math.min(100, (share / METER_MAX) * 100)}%` }} />
          {MARKS.map((mark) => (
            <span key={mark} className="budget__mark" style={{ left: `${(mark / METER_MAX) * 100}%` }} title={`${(mark * 100).toFixed(1)} %`} />
          ))}
        </div>
        <span className="budget__value" data-testid="budget-value">
          {budget
            ? `${formatShare(share)} of target training pixels corrected · ${budget.correctedImages} image${budget.correctedImages === 1 ? '' : 's'}` +
              (budget.otherSplitPixels > 0 ? ` · ${budget.otherSplitPixels.toLocaleString()} px on other splits, not learnt` : '')
            : '…'}
        </span>
      </div>
      <div className="regions__actions">
        <button type="button" className="button" data-testid="next-region" disabled={busy} onClick={onNext} title="Jump to the next hardest region (N)">
          Next region
        </button>
        <button type="button" className="button" data-testid="region-done" disabled={!region || busy} onClick={() => mark('done')}>
          Done
        </button>
        <button type="button" className="button" data-testid="region-skip" disabled={!region || busy} onClick={() => mark('skipped')}>
          Skip
        </button>
      </div>
      {region && (
        <p
          className="regions__current muted"
          data-testid="current-region"
          data-region-id={region.id}
          data-image-id={region.imageId}
          data-round-id={region.roundId}
          data-superpixel={region.superpixel}
          data-box={`${region.x},${region.y},${region.width},${region.height}`}
        >
          Region {region.id}: score {region.score.toFixed(3)}, {region.pixels.toLocaleString()} px
        </p>
      )}
      <label className="regions__lock" title="Strokes change only the region's own pixels (R)">
        <input type="checkbox" data-testid="region-lock" checked={lock} onChange={(event) => onLock(event.target.checked)} />
        Paint only inside the region
        {lock && region && !lockApplies && <span className="muted"> (not active on this image)</span>}
      </label>
      {stats && stats.roundId !== null && (
        <p className="regions__stats muted" data-testid="region-counts" title={`Regions on the target training images of round ${stats.roundId}; covered: already at least half corrected, so passed over`}>
          {regionCountsText(stats)}
        </p>
      )}
      {timeText && (
        <p className="regions__stats muted" data-testid="region-time" title={`Median time from the jump to Done / Skip over ${stats!.timed} timed region${stats!.timed === 1 ? '' : 's'}`}>
          {timeText}
        </p>
      )}
      {message && <p className="regions__message muted">{message}</p>}
    </section>
  );
}

export function formatShare(share: number): string {
  const percent = share * 100;
  return `${percent < 1 ? percent.toFixed(2) : percent.toFixed(1)} %`;
}
