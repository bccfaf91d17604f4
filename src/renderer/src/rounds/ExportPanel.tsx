// Export a round's model (TensorFlow.js or ONNX, with a model card) or a dataset's labels in the Cityscapes
// layout, into a new folder, with progress. Errors (a non-empty folder, no permission, a full disk) come back
// as one sentence from the project, and nothing half-written is left.
import { useEffect, useState, type FormEvent } from 'react';
import type { CordaApi, Dataset, JobProgress, LabelFormat, LabelSource, ModelFormat, RoundSummary } from '../../../shared/api';
import { errorMessage } from '../ApiContext';
import { ProgressBar } from '../components/ProgressBar';
import { SelectField } from '../components/SelectField';
import './rounds.css';

interface ExportJob {
  jobId: string | null;
  progress: JobProgress | null;
  done: string | null;
  error: string | null;
}

function useExportJob(api: CordaApi) {
  const [job, setJob] = useState<ExportJob | null>(null);
  useEffect(
    () =>
      api.onEvent((message) => {
        if (message.event === 'jobProgress' && message.payload.kind === 'export') {
          const progress = message.payload;
          setJob((current) => (current && current.jobId === progress.jobId ? { ...current, progress } : current));
        } else if (message.event === 'jobFinished' && message.payload.kind === 'export') {
          const finished = message.payload;
          setJob((current) =>
            current && current.jobId === finished.jobId
              ? { ...current, progress: null, done: finished.status === 'done' ? 'done' : null, error: finished.status === 'done' ? null : (finished.error ?? `The export was ${finished.status}.`) }
              : current,
          );
        }
      }),
    [api],
  );
  const start = async (request: () => Promise<{ jobId: string }>) => {
    setJob({ jobId: null, progress: null, done: null, error: null });
    try {
      const { jobId } = await request();
      setJob((current) => (current && current.jobId === null ? { ...current, jobId } : current));
    } catch (error) {
      setJob({ jobId: null, progress: null, done: null, error: errorMessage(error) });
    }
  };
  return { job, start, running: job !== null && job.done === null && job.error === null };
}

const MODEL_FORMATS: { value: ModelFormat; label: string }[] = [
  { value: 'tfjs', label: 'TensorFlow.js graph model' },
  { value: 'onnx', label: 'ONNX' },
];
const LABEL_SOURCES: { value: LabelSource; label: string }[] = [
  { value: 'best', label: 'best (corrected, else predicted)' },
  { value: 'corrected', label: 'corrected images only' },
  { value: 'predicted', label: 'predicted (newest round)' },
];
const LABEL_FORMATS: { value: LabelFormat; label: string }[] = [
  { value: 'labelIds', label: 'Cityscapes labelIds' },
  { value: 'trainIds', label: 'trainIds' },
  { value: 'color', label: 'colour' },
];

interface ExportPanelProps {
  api: CordaApi;
  rounds: readonly RoundSummary[];
  datasets: readonly Dataset[];
  canPickFolder: boolean;
}

export function ExportPanel({ api, rounds, datasets, canPickFolder }: ExportPanelProps) {
  const finished = rounds.filter((r) => r.status === 'done');
  const targets = datasets.filter((d) => d.role === 'target');
  const [roundId, setRoundId] = useState<number | null>(null);
  const [modelFormat, setModelFormat] = useState<ModelFormat>('tfjs');
  const [modelDir, setModelDir] = useState('');
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [which, setWhich] = useState<LabelSource>('best');
  const [labelFormat, setLabelFormat] = useState<LabelFormat>('labelIds');
  const [labelDir, setLabelDir] = useState('');
  const model = useExportJob(api);
  const labels = useExportJob(api);
  const chosenRound = roundId ?? finished.at(-1)?.id ?? null;
  const chosenDataset = datasetId ?? targets[0]?.id ?? null;

  const pick = async (set: (path: string) => void) => {
    const { path } = await api.pickFolder({});
    if (path) set(path);
  };

  function exportModel(event: FormEvent) {
    event.preventDefault();
    if (chosenRound === null || !modelDir.trim()) return;
    void model.start(() => api.exportModel({ roundId: chosenRound, format: modelFormat, outDir: modelDir.trim() }));
  }

  function exportLabels(event: FormEvent) {
    event.preventDefault();
    if (chosenDataset === null || !labelDir.trim()) return;
    void labels.start(() => api.exportLabels({ datasetId: chosenDataset, which, format: labelFormat, outDir: labelDir.trim() }));
  }

  return (
    <div className="export-panel">
      <form className="export-panel__form" onSubmit={exportModel} data-testid="export-model-form">
        <h3 className="panel__title">Export the model</h3>
        <SelectField
          label="Round"
          testId="export-round"
          value={chosenRound === null ? '' : String(chosenRound)}
          disabled={finished.length === 0}
          options={finished.map((r) => ({ value: String(r.id), label: `#${r.id} ${r.method} ${r.preset}` }))}
          onChange={(id) => setRoundId(Number(id))}
        />
        <SelectField label="Format" testId="export-format" value={modelFormat} options={MODEL_FORMATS} onChange={setModelFormat} />
        <FolderField testId="export-model-dir" value={modelDir} onChange={setModelDir} onPick={canPickFolder ? () => void pick(setModelDir) : null} />
        <button type="submit" className="button button--primary" data-testid="export-model" disabled={model.running || chosenRound === null || !modelDir.trim()}>
          Export model
        </button>
        <ExportStatus job={model.job} testId="export-model-status" />
      </form>

      <form className="export-panel__form" onSubmit={exportLabels} data-testid="export-labels-form">
        <h3 className="panel__title">Export labels</h3>
        <SelectField
          label="Dataset"
          testId="export-dataset"
          value={chosenDataset === null ? '' : String(chosenDataset)}
          disabled={targets.length === 0}
          options={targets.map((d) => ({ value: String(d.id), label: d.name }))}
          onChange={(id) => setDatasetId(Number(id))}
        />
        <SelectField label="Labels" testId="export-which" value={which} options={LABEL_SOURCES} onChange={setWhich} />
        <SelectField label="Format" testId="export-label-format" value={labelFormat} options={LABEL_FORMATS} onChange={setLabelFormat} />
        <FolderField testId="export-labels-dir" value={labelDir} onChange={setLabelDir} onPick={canPickFolder ? () => void pick(setLabelDir) : null} />
        <button type="submit" className="button button--primary" data-testid="export-labels" disabled={labels.running || chosenDataset === null || !labelDir.trim()}>
          Export labels
        </button>
        <ExportStatus job={labels.job} testId="export-labels-status" />
      </form>
    </div>
  );
}

function FolderField({ testId, value, onChange, onPick }: { testId: string; value: string; onChange: (v: string) => void; onPick: (() => void) | null }) {
  return (
    <label className="field">
      <span>New folder</span>
      <span className="export-panel__folder">
        <input type="text" data-testid={testId} value={value} placeholder="/path/to/new/folder" onChange={(e) => onChange(e.target.value)} />
        {onPick && (
          <button type="button" className="button" onClick={onPick}>
            Choose…
          </button>
        )}
      </span>
    </label>
  );
}

function ExportStatus({ job, testId }: { job: ExportJob | null; testId: string }) {
  if (!job) return null;
  if (job.error)
    return (
      <p className="import-panel__error" role="alert" data-testid={testId} data-state="failed">
        {job.error}
      </p>
    );
  if (job.done)
    return (
      <p className="muted" data-testid={testId} data-state="done">
        Exported.
      </p>
    );
  return (
    <div data-testid={testId} data-state="running">
      <ProgressBar progress={job.progress} label="Exporting" testId={`${testId}-progress`} />
    </div>
  );
}
