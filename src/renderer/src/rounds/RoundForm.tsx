// The one form that starts a round, with the contract's defaults. `compact` (the sidebar) asks for the method
// and the iterations and trains the first source on the first target; the Rounds view shows every field.
import { useState, type FormEvent, type ReactNode } from 'react';
import {
  DEFAULT_ITERS, METHODS, PRESET_NAMES, ROUND_DEFAULTS,
  type Dataset, type Method, type PresetName, type RoundSummary, type StartRoundInput,
} from '../../../shared/api';

const PRESET_HINT = 'tiny: for a CPU; small: MobileNetV2 encoder; paper: DeepLabv2-like, for a GPU';
/** The sidebar lists the method the paper is about first. */
const METHOD_ORDER: readonly Method[] = [...METHODS].reverse();

export interface RoundFormProps {
  datasets: Dataset[];
  rounds: RoundSummary[];
  busy: boolean;
  onStart: (request: StartRoundInput) => void;
  compact?: boolean;
  /** Prefix of every field's test id (`round-iters`, `rv-iters`, …). */
  testIdPrefix: string;
  /** Shown at the end of the form (the view's error line). */
  children?: ReactNode;
}

export function RoundForm({ datasets, rounds, busy, onStart, compact = false, testIdPrefix, children }: RoundFormProps) {
  const id = (name: string) => `${testIdPrefix}-${name}`;
  const sources = datasets.filter((d) => d.role === 'source');
  const targets = datasets.filter((d) => d.role === 'target');
  const [sourceId, setSourceId] = useState<number | null>(null);
  const [targetId, setTargetId] = useState<number | null>(null);
  const [method, setMethod] = useState<Method>(ROUND_DEFAULTS.method);
  const [preset, setPreset] = useState<PresetName>(ROUND_DEFAULTS.preset);
  const [iters, setIters] = useState(String(DEFAULT_ITERS[ROUND_DEFAULTS.preset]));
  const [seed, setSeed] = useState(String(ROUND_DEFAULTS.seed));
  const [useCorrections, setUseCorrections] = useState<boolean>(ROUND_DEFAULTS.useCorrections);
  /** 'scratch', 'checkpoint', or a finished round's id as text; null = the latest round that fits, else scratch. */
  const [startChoice, setStartChoice] = useState<string | null>(null);
  const [initFile, setInitFile] = useState('');
  const [initFrom, setInitFrom] = useState<'model' | 'ema_model'>('model');

  const source = sourceId ?? sources[0]?.id ?? null;
  const target = targetId ?? targets[0]?.id ?? null;
  const itersValue = Number(iters);
  const seedValue = Number(seed);
  // Rounds a new one can continue from: finished, on this target, of this preset (newest first).
  const parents = rounds.filter((r) => r.status === 'done' && r.targetDatasetId === target && r.preset === preset).reverse();
  const choiceFits = startChoice === 'scratch' || startChoice === 'checkpoint' || parents.some((r) => String(r.id) === startChoice);
  const startFrom = startChoice !== null && choiceFits ? startChoice : parents[0] ? String(parents[0].id) : 'scratch';
  const parent = compact ? null : (parents.find((r) => String(r.id) === startFrom) ?? null);
  const fromCheckpoint = !compact && startFrom === 'checkpoint';
  const missing = source === null ? 'a source' : target === null ? 'a target' : null;
  const problem =
    missing !== null ? `Import ${missing} dataset first.`
    : !(Number.isInteger(itersValue) && itersValue >= 1) ? 'Give the iterations as a whole number of at least 1.'
    : !compact && !(Number.isInteger(seedValue) && seedValue >= 0) ? 'Give the seed as a whole number.'
    : fromCheckpoint && initFile.trim() === '' ? 'Give the checkpoint file.'
    : null;

  function start(event: FormEvent) {
    event.preventDefault();
    if (problem !== null) return;
    const request: StartRoundInput = { sourceDatasetId: source!, targetDatasetId: target!, method, preset, iters: itersValue };
    onStart(
      compact
        ? request
        : {
            ...request,
            seed: seedValue,
            useCorrections,
            ...(parent && { parentRoundId: parent.id }),
            ...(fromCheckpoint && { init: { file: initFile.trim(), from: initFrom } }),
          },
    );
  }

  const field = compact ? 'field field--inline' : 'field';
  const datasetSelect = (label: string, name: string, list: Dataset[], value: number | null, set: (id: number) => void) => (
    <label className={field}>
      <span>{label}</span>
      <select data-testid={id(name)} value={value ?? ''} disabled={busy} onChange={(e) => set(Number(e.target.value))}>
        {list.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name} ({d.kind})
          </option>
        ))}
      </select>
    </label>
  );
  const sourceName = sources.find((d) => d.id === source)?.name;
  const targetName = targets.find((d) => d.id === target)?.name;

  return (
    <form className={compact ? 'rounds-panel__form' : 'rounds-view__form'} onSubmit={start} data-testid={compact ? undefined : 'round-form'}>
      {!compact && <h3 className="panel__title">New round</h3>}
      {!compact && datasetSelect('Source', 'source', sources, source, setSourceId)}
      {!compact && datasetSelect('Target', 'target', targets, target, setTargetId)}
      <label className={field}>
        <span>Method</span>
        <select data-testid={id('method')} value={method} disabled={busy} onChange={(e) => setMethod(e.target.value as Method)}>
          {METHOD_ORDER.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      {!compact && (
        <label className={field}>
          <span>Preset</span>
          <select
            data-testid={id('preset')}
            value={preset}
            disabled={busy}
            title={PRESET_HINT}
            onChange={(e) => {
              const next = e.target.value as PresetName;
              setPreset(next);
              setIters(String(DEFAULT_ITERS[next]));
            }}
          >
            {PRESET_NAMES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className={field}>
        <span>Iterations</span>
        <input type="number" data-testid={id('iters')} min={1} step={1} value={iters} disabled={busy} onChange={(e) => setIters(e.target.value)} />
      </label>
      {!compact && (
        <>
          <label className={field}>
            <span>Seed</span>
            <input type="number" data-testid={id('seed')} min={0} step={1} value={seed} disabled={busy} onChange={(e) => setSeed(e.target.value)} />
          </label>
          <label className="field field--checkbox">
            <input type="checkbox" data-testid={id('corrections')} checked={useCorrections} disabled={busy} onChange={(e) => setUseCorrections(e.target.checked)} />
            <span>Use corrected pixels as trusted labels</span>
          </label>
          <label className={field} title="The weights the round starts from: a finished round of this preset on this target, the preset's own initial weights, or a PyTorch checkpoint file">
            <span>Start from</span>
            <select data-testid={id('start-from')} value={startFrom} disabled={busy} onChange={(e) => setStartChoice(e.target.value)}>
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
              <label className={field} title="The full path of a torch.save checkpoint of this preset's network; the round's log reports what loaded">
                <span>Checkpoint file</span>
                <input type="text" data-testid={id('init-file')} value={initFile} disabled={busy} placeholder="/path/to/checkpoint.pth" onChange={(e) => setInitFile(e.target.value)} />
              </label>
              <label className={field} title="A training checkpoint holds the student (model) and its EMA teacher (ema_model)">
                <span>Network</span>
                <select data-testid={id('init-from')} value={initFrom} disabled={busy} onChange={(e) => setInitFrom(e.target.value as 'model' | 'ema_model')}>
                  <option value="model">model (student)</option>
                  <option value="ema_model">ema_model (EMA teacher)</option>
                </select>
              </label>
            </>
          )}
        </>
      )}
      <button
        type="submit"
        className="button button--primary"
        data-testid={id('start')}
        disabled={busy || problem !== null}
        title={problem ?? `Train ${sourceName} → ${targetName}`}
      >
        Run round
      </button>
      {children}
    </form>
  );
}
