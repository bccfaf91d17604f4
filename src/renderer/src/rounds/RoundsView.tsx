// The whole adaptation loop in one place: configure and launch a round, watch it (progress, ETA, images/s,
// the loss terms and the target val mIoU as charts), cancel or resume it, compare finished rounds (mIoU, its
// change against the previous round, per-class IoU and learning curve, what share of the target was corrected),
// and export.
import { Fragment, useState } from 'react';
import type { AppInfo, Dataset, RoundSummary } from '../../../shared/api';
import { TRAIN_CLASSES } from '../../../shared/labels';
import { useApi } from '../ApiContext';
import { ProgressBar } from '../components/ProgressBar';
import { BudgetPlot } from './BudgetPlot';
import { mIoUChanges } from './chartMath';
import { ExportPanel } from './ExportPanel';
import { LossChart } from './LossChart';
import { RoundForm } from './RoundForm';
import { ValChart } from './ValChart';
import { describeLive, IN_PROGRESS, percent, RESUMABLE, toJobProgress, useRounds } from './useRounds';
import './rounds.css';

export function RoundsView({ datasets, appInfo }: { datasets: Dataset[]; appInfo: AppInfo | null }) {
  const api = useApi();
  const { rounds, active, requesting, busy, error, lossPoints, curve, launch, resume, cancel } = useRounds(api);
  const [expanded, setExpanded] = useState<number | null>(null);
  const finished = (rounds ?? []).filter((r) => r.status === 'done');
  const changes = mIoUChanges(rounds ?? []);

  return (
    <section className="rounds-view" data-testid="rounds-view" aria-label="Rounds">
      <div className="rounds-view__top">
        <RoundForm testIdPrefix="rv" datasets={datasets} rounds={rounds ?? []} busy={busy} onStart={(request) => launch(() => api.startRound(request))}>
          {error && (
            <p className="import-panel__error" role="alert" data-testid="rv-error">
              {error}
            </p>
          )}
        </RoundForm>

        <div className="rounds-view__live" data-testid="rv-live">
          <h3 className="panel__title">Running</h3>
          {active ? (
            <>
              <ProgressBar progress={active.progress && toJobProgress(active.progress)} label={active.progress?.roundId ? `Round #${active.progress.roundId}` : 'Round'} testId="rv-progress" />
              <div className="rounds-panel__live-line">
                <span data-testid="rv-live-line">{active.cancelling ? 'cancelling…' : describeLive(active.progress)}</span>
                <button type="button" className="button" data-testid="rv-cancel" disabled={active.cancelling} onClick={cancel}>
                  Cancel
                </button>
              </div>
              <div className="rounds-view__charts">
                <LossChart points={lossPoints} />
                <ValChart curve={curve} iters={active.progress?.iters} testId="rv-val-chart" />
              </div>
            </>
          ) : (
            <p className="muted">{requesting ? 'Starting…' : 'No round is running.'}</p>
          )}
        </div>
      </div>

      <div className="rounds-view__bottom">
        <div className="rounds-view__history">
          <h3 className="panel__title">History</h3>
          {rounds === null ? (
            <p className="muted">Loading rounds…</p>
          ) : rounds.length === 0 ? (
            <p className="muted">No rounds yet.</p>
          ) : (
            <table className="rounds-table" data-testid="rounds-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>method</th>
                  <th>preset</th>
                  <th>status</th>
                  <th>backend</th>
                  <th title="iterations done / total">iters</th>
                  <th title="target mIoU, 19 classes">mIoU</th>
                  <th title="change against the previous finished round on this target">Δ</th>
                  <th title="16 / 13-class protocols">16 / 13</th>
                  <th title="target val split mIoU">val</th>
                  <th title="share of target training pixels corrected when the round started">corrected</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {[...rounds].reverse().map((r) => {
                  const orphaned = IN_PROGRESS.has(r.status) && active === null && !requesting;
                  const change = changes.get(r.id) ?? null;
                  return (
                    <Fragment key={r.id}>
                      <tr data-testid="rv-row" data-round-id={r.id} data-status={r.status}>
                        <td>{r.id}</td>
                        <td>{r.method}</td>
                        <td>{r.preset}</td>
                        <td className={`round-status round-status--${r.status}`}>{orphaned ? `${r.status} (stopped)` : r.status}</td>
                        <td>{r.backend || '—'}</td>
                        <td data-testid="rv-iters-cell">
                          {r.startedFrom?.imported ? (
                            <span title={`${r.startedFrom.name}, sha256 ${r.startedFrom.sha256}`}>imported {r.startedFrom.name}</span>
                          ) : (
                            <>
                              {(active?.progress?.roundId === r.id ? active.progress.iteration : r.iteration).toLocaleString()} / {r.iters.toLocaleString()}
                              {r.startedFrom && (
                                <span className="muted" title={`started from ${r.startedFrom.name}, sha256 ${r.startedFrom.sha256}`}>
                                  {' '}
                                  from {r.startedFrom.name}
                                </span>
                              )}
                            </>
                          )}
                        </td>
                        <td data-testid="rv-miou">{percent(r.mIoU)}</td>
                        <td className={change === null ? '' : change >= 0 ? 'delta--up' : 'delta--down'}>{change === null ? '—' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}`}</td>
                        <td>
                          {percent(r.mIoU16)} / {percent(r.mIoU13)}
                        </td>
                        <td>{percent(r.valMIoU)}</td>
                        <td>{percent(r.correctedShare, 2)}</td>
                        <td>
                          {(r.perClass || r.curve.length > 0) && (
                            <button
                              type="button"
                              className="button button--ghost"
                              data-testid="rv-per-class"
                              aria-expanded={expanded === r.id}
                              title="Per-class IoU and the val mIoU learning curve"
                              onClick={() => setExpanded(expanded === r.id ? null : r.id)}
                            >
                              {expanded === r.id ? 'hide details' : 'details'}
                            </button>
                          )}
                          {(RESUMABLE.has(r.status) || orphaned) && (
                            <button type="button" className="button" data-testid="rv-resume" disabled={busy} onClick={() => resume(r.id)}>
                              Resume
                            </button>
                          )}
                        </td>
                      </tr>
                      {expanded === r.id && (r.perClass || r.curve.length > 0) && (
                        <tr className="rounds-table__classes">
                          <td colSpan={12}>
                            <div className="rounds-view__details">
                              {r.perClass && <PerClass round={r} previous={finished.filter((p) => p.id < r.id && p.targetDatasetId === r.targetDatasetId).at(-1) ?? null} />}
                              <ValChart curve={r.curve} iters={r.iters} testId="rv-round-val-chart" />
                            </div>
                          </td>
                        </tr>
                      )}
                      {r.status === 'failed' && r.error && (
                        <tr>
                          <td colSpan={12} className="round-row__error">
                            {r.error}
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
        <div className="rounds-view__side">
          <div className="rounds-view__plot">
            <h3 className="panel__title">mIoU against corrections</h3>
            <BudgetPlot rounds={rounds ?? []} />
          </div>
          <ExportPanel api={api} rounds={rounds ?? []} datasets={datasets} canPickFolder={appInfo?.canPickFolder ?? false} />
        </div>
      </div>
    </section>
  );
}

function PerClass({ round, previous }: { round: RoundSummary; previous: RoundSummary | null }) {
  return (
    <table className="per-class" data-testid="rv-class-table">
      <thead>
        <tr>
          <th>class</th>
          <th>IoU</th>
          <th>Δ vs #{previous?.id ?? '—'}</th>
        </tr>
      </thead>
      <tbody>
        {TRAIN_CLASSES.map((c) => {
          const iou = round.perClass?.[c.name] ?? null;
          const before = previous?.perClass?.[c.name] ?? null;
          const change = iou !== null && before !== null ? iou - before : null;
          return (
            <tr key={c.trainId}>
              <td>
                <span className="palette__swatch" style={{ backgroundColor: `rgb(${c.color.join(',')})`, display: 'inline-block', marginRight: 6 }} />
                {c.name}
              </td>
              <td>{percent(iou)}</td>
              <td className={change === null ? '' : change >= 0 ? 'delta--up' : 'delta--down'}>{change === null ? '—' : `${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}`}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
