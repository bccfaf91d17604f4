// A compact view of the project's adaptation rounds: the list, a live line for the running round, and
// controls to start, cancel and resume. The full rounds view is separate.
import type { Dataset } from '../../../shared/api';
import { useApi } from '../ApiContext';
import { ProgressBar } from '../components/ProgressBar';
import { RoundForm } from './RoundForm';
import { describeLive, IN_PROGRESS, percent, RESUMABLE, toJobProgress, useRounds } from './useRounds';
import './rounds.css';

export function RoundsPanel({ datasets }: { datasets: Dataset[] | null }) {
  const api = useApi();
  const { rounds, active, requesting, busy, error, launch, resume, cancel } = useRounds(api);
  const missing = !datasets?.some((d) => d.role === 'source') ? 'a source' : !datasets.some((d) => d.role === 'target') ? 'a target' : null;
  const newestFirst = rounds ? [...rounds].reverse() : null;

  return (
    <details className="rounds-panel" data-testid="rounds-panel" open>
      <summary className="sidebar__title rounds-panel__title">
        Rounds{rounds && rounds.length > 0 ? ` (${rounds.length})` : ''}
      </summary>

      <RoundForm
        compact
        testIdPrefix="round"
        datasets={datasets ?? []}
        rounds={rounds ?? []}
        busy={busy}
        onStart={(request) => launch(() => api.startRound(request))}
      />
      {datasets !== null && missing && (
        <p className="muted sidebar__note">Import {missing} dataset to run a round.</p>
      )}

      {active && (
        <div className="rounds-panel__live">
          <ProgressBar
            progress={active.progress && toJobProgress(active.progress)}
            label={active.progress?.roundId ? `Round #${active.progress.roundId}` : 'Round'}
            testId="round-progress"
          />
          <div className="rounds-panel__live-line">
            <span className="rounds-panel__stats" data-testid="round-live">
              {active.cancelling ? 'cancelling…' : describeLive(active.progress)}
            </span>
            <button
              type="button"
              className="button"
              data-testid="round-cancel"
              disabled={active.cancelling}
              onClick={cancel}
            >
              Cancel
            </button>
          </div>
        </div>
      )}

      {error && (
        <p className="import-panel__error" role="alert" data-testid="round-error">
          {error}
        </p>
      )}

      {newestFirst === null ? (
        <p className="muted sidebar__note">Loading rounds…</p>
      ) : newestFirst.length === 0 ? (
        <p className="muted sidebar__note" data-testid="round-list-empty">
          No rounds yet.
        </p>
      ) : (
        <ul className="round-list">
          {newestFirst.map((round) => {
            const orphaned = IN_PROGRESS.has(round.status) && active === null && !requesting;
            const canResume = RESUMABLE.has(round.status) || orphaned;
            // The running round's iteration moves with its progress events, between list reloads.
            const iteration = active?.progress?.roundId === round.id ? active.progress.iteration : round.iteration;
            return (
              <li
                key={round.id}
                className="round-row"
                data-testid="round-row"
                data-round-id={round.id}
                data-status={round.status}
                title={`Started ${new Date(round.createdAt).toLocaleString()}`}
              >
                <span className="round-row__head">
                  <span className="round-row__id">#{round.id}</span>
                  <span className="round-row__method">{round.method}</span>
                  <span className="muted">{round.preset}</span>
                  <span className="toolbar__spacer" />
                  <span className={`round-status round-status--${round.status}`} data-testid="round-status">
                    {orphaned ? `${round.status} (stopped)` : round.status}
                  </span>
                </span>
                <span className="round-row__meta">
                  <span data-testid="round-backend" title="backend">
                    {round.backend || '—'}
                  </span>
                  <span title="iterations done / total">
                    {iteration.toLocaleString()} / {round.iters.toLocaleString()} it
                  </span>
                  <span title="milliseconds per training step">
                    {round.msPerStep === null ? '—' : `${Math.round(round.msPerStep).toLocaleString()} ms/step`}
                  </span>
                </span>
                <span className="round-row__meta">
                  <span title="mIoU over the target dataset's labelled images (19 classes)">
                    mIoU <strong data-testid="round-miou">{percent(round.mIoU)}</strong>
                  </span>
                  <span title="mIoU over the target val split">
                    val <strong data-testid="round-val-miou">{percent(round.valMIoU)}</strong>
                  </span>
                  {canResume && (
                    <button
                      type="button"
                      className="button round-row__resume"
                      data-testid="round-resume"
                      disabled={busy}
                      onClick={() => resume(round.id)}
                    >
                      Resume
                    </button>
                  )}
                </span>
                {round.status === 'failed' && round.error && <span className="round-row__error">{round.error}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </details>
  );
}

