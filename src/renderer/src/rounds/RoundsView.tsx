// The whole adaptation loop in one place: configure and launch a round, watch it (progress, ETA, images/s,
// the loss terms and the target val mIoU as charts), cancel or resume it, compare finished rounds (mIoU, its
// change against the previous round, per-class IoU and learning curve, what share of the target was corrected),
// and export.
import { Fragment, useState, type FormEvent } from 'react';
import { DEFAULT_ITERS, type AppInfo, type Dataset, type RoundSummary } from '../../../shared/api';
import { TRAIN_CLASSES } from '../../../shared/labels';
import { useApi } from '../ApiContext';
import { ProgressBar } from '../components/ProgressBar';
import { BudgetPlot } from './BudgetPlot';
import { mIoUChanges } from './chartMath';
import { ExportPanel } from './ExportPanel';
import { LossChart } from './LossChart';
import { ValChart } from './ValChart';
import { describeLive, IN_PROGRESS, METHODS, percent, RESUMABLE, toJobProgress, useRounds } from './useRounds';

const PRESETS = ['tiny', 'small', 'paper'] as const;

export function RoundsView({ datasets, appInfo }: { datasets: Dataset[]; appInfo: AppInfo | null }) {
  const api = useApi();
  const { rounds, active, requesting, busy, error, lossPoints, curve, launch, resume, cancel } = useRounds(api);
  const sources = datasets.filter((d) => d.role === 'source');
  const targets = datasets.filter((d) => d.role === 'target');
  const [sourceId, setSourceId] = useState<number | null>(null);
  const [targetId, setTargetId] = useState<number | null>(null);
  const [method, setMethod] = useState<RoundSummary['method']>('corda');
  const [preset, setPreset] = useState<(typeof PRESETS)[number]>('tiny');
  const [iters, setIters] = useState(String(DEFAULT_ITERS.tiny));
  const [seed, setSeed] = useState('1');
  const [useCorrections, setUseCorrections] = useState(true);
  /** 'scratch', 'checkpoint', or a finished round's id as text; null = the latest round that fits, else scratch. */
  const [startChoice, setStartChoice] = useState<string | null>(null);
  const [initFile, setInitFile] = useState('');
  const [initFrom, setInitFrom] = useState<'model' | 'ema_model'>('model');
  const [expanded, setExpanded] = useState<number | null>(null);

  const source = sourceId ?? sources[0]?.id ?? null;
  const target = targetId ?? targets[0]?.id ?? null;
  const itersValue = Number(iters);
  const seedValue = Number(seed);
  const finished = (rounds ?? []).filter((r) => r.status === 'done');
  // Rounds a new one can continue from: finished, on this target, of this preset (newest first).
  const parents = [...finished].reverse().filter((r) => r.targetDatasetId === target && r.preset === preset);
  const choiceFits = startChoice === 'scratch' || startChoice === 'checkpoint' || parents.some((r) => String(r.id) === startChoice);
  const startFrom = startChoice !== null && choiceFits ? startChoice : parents[0] ? String(parents[0].id) : 'scratch';
  const parent = parents.find((r) => String(r.id) === startFrom) ?? null;
  const fromCheckpoint = startFrom === 'checkpoint';
  const valid =
    source !== null && target !== null && Number.isInteger(itersValue) && itersValue >= 1 && Number.isInteger(seedValue) && seedValue >= 0 &&
    (!fromCheckpoint || initFile.trim() !== '');
  const changes = mIoUChanges(rounds ?? []);

  function start(event: FormEvent) {
    event.preventDefault();
    if (!valid) return;
    launch(() =>
      api.startRound({
        sourceDatasetId: source!,
        targetDatasetId: target!,
        method,
        preset,
        iters: itersValue,
        seed: seedValue,
        useCorrections,
        ...(parent && { parentRoundId: parent.id }),
        ...(fromCheckpoint && { init: { file: initFile.trim(), from: initFrom } }),
      }),
    );
  }

  return (
    <section className="rounds-view" data-testid="rounds-view" aria-label="Rounds">
      <div className="rounds-view__top">
        <form className="rounds-view__form" onSubmit={start} data-testid="round-form">
          <h3 className="panel__title">New round</h3>
          <label className="field">
            <span>Source</span>
            <select data-testid="rv-source" value={source ?? ''} disabled={busy} onChange={(e) => setSourceId(Number(e.target.value))}>
              {sources.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({d.kind})
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Target</span>
            <select data-testid="rv-target" value={target ?? ''} disabled={busy} onChange={(e) => setTargetId(Number(e.target.value))}>
              {targets.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({d.kind})
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Method</span>
            <select data-testid="rv-method" value={method} disabled={busy} onChange={(e) => setMethod(e.target.value as RoundSummary['method'])}>
              {METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Preset</span>
            <select data-testid="rv-preset" value={preset} disabled={busy} onChange={(e) => {
                const next = e.target.value as (typeof PRESETS)[number];
                setPreset(next);
                setIters(String(DEFAULT_ITERS[next]));
              }} title="tiny: for a CPU; small: MobileNetV2 encoder; paper: DeepLabv2-like, for a GPU">
              {PRESETS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Iterations</span>
            <input type="number" data-testid="rv-iters" min={1} step={1} value={iters} disabled={busy} onChange={(e) => setIters(e.target.value)} />
          </label>
          <label className="field">
            <span>Seed</span>
            <input type="number" data-testid="rv-seed" min={0} step={1} value={seed} disabled={busy} onChange={(e) => setSeed(e.target.value)} />
          </label>
          <label className="field field--checkbox">
            <input type="checkbox" data-testid="rv-corrections" checked={useCorrections} disabled={busy} onChange={(e) => setUseCorrections(e.target.checked)} />
            <span>Use corrected pixels as trusted labels</span>
          </label>
          <label className="field" title="The weights the round starts from: a finished round of this preset on this target, the preset's own initial weights, or a PyTorch checkpoint file">
            <span>Start from</span>
            <select data-testid="rv-start-from" value={startFrom} disabled={busy} onChange={(e) => setStartChoice(e.target.value)}>
              {parents.map((r) => (
                <option key={r.id} value={String(r.id)}>
                  round #{r.id}
                </option>
              ))}
              <option value="scratch">initial weights (from scratch)</option>
              <option value="checkpoint">a checkpoint file (.pth)…</option>
            </select>
          </label>
          {fromCheckpoint && (
            <>
              <label className="field" title="The full path of a torch.save checkpoint of this preset's network; the round's log reports what loaded">
                <span>Checkpoint file</span>
                <input type="text" data-testid="rv-init-file" value={initFile} disabled={busy} placeholder="/path/to/checkpoint.pth" onChange={(e) => setInitFile(e.target.value)} />
              </label>
              <label className="field" title="A training checkpoint holds the student (model) and its EMA teacher (ema_model)">
                <span>Network</span>
                <select data-testid="rv-init-from" value={initFrom} disabled={busy} onChange={(e) => setInitFrom(e.target.value as 'model' | 'ema_model')}>
                  <option value="model">model (student)</option>
                  <option value="ema_model">ema_model (EMA teacher)</option>
                </select>
              </label>
            </>
          )}
          <button type="submit" className="button button--primary" data-testid="rv-start" disabled={busy || !valid} title={valid ? '' : fromCheckpoint && initFile.trim() === '' ? 'Give the checkpoint file' : 'Import a source and a target dataset, and give whole numbers'}>
            Run round
          </button>
          {error && (
            <p className="import-panel__error" role="alert" data-testid="rv-error">
              {error}
            </p>
          )}
        </form>

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
