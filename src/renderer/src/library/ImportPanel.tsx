// "Open dataset folder…": the native folder dialog in Electron, a path field in web mode; then the import job.
import { useState, type FormEvent } from 'react';
import { DEPTH_SOURCE_NAMES, type DatasetRole, type ImportProblem, type ImportResult, type JobProgress } from '../../../shared/api';
import { errorMessage, useApi } from '../ApiContext';
import { ProgressBar } from '../components/ProgressBar';
import { SelectField } from '../components/SelectField';
import './library.css';

type RoleChoice = DatasetRole | 'auto';

const ROLE_OPTIONS: { value: RoleChoice; label: string }[] = [
  { value: 'auto', label: 'auto (by kind)' },
  { value: 'source', label: 'source' },
  { value: 'target', label: 'target' },
];

type ImportState =
  | { status: 'idle' }
  | { status: 'running'; folder: string }
  | { status: 'done'; result: ImportResult }
  | { status: 'failed'; message: string };

interface ImportPanelProps {
  canPickFolder: boolean;
  /** Progress of running import jobs (the import call itself returns only at the end). */
  importJobs: JobProgress[];
  onImported: (result: ImportResult) => void;
}

export function ImportPanel({ canPickFolder, importJobs, onImported }: ImportPanelProps) {
  const api = useApi();
  const [state, setState] = useState<ImportState>({ status: 'idle' });
  const [showPathForm, setShowPathForm] = useState(false);
  const [folder, setFolder] = useState('');
  const [role, setRole] = useState<RoleChoice>('auto');
  const running = state.status === 'running';

  async function runImport(path: string) {
    setState({ status: 'running', folder: path });
    try {
      const result = await api.importDataset({ folder: path, role: role === 'auto' ? undefined : role });
      setState({ status: 'done', result });
      onImported(result);
    } catch (error) {
      setState({ status: 'failed', message: errorMessage(error) });
    }
  }

  async function openFolder() {
    if (!canPickFolder) {
      setShowPathForm(true);
      return;
    }
    try {
      const picked = await api.pickFolder({});
      if (picked.path) await runImport(picked.path);
    } catch (error) {
      setState({ status: 'failed', message: errorMessage(error) });
    }
  }

  function submitPath(event: FormEvent) {
    event.preventDefault();
    const path = folder.trim();
    if (path) void runImport(path);
  }

  return (
    <section className="import-panel" aria-label="Import a dataset">
      <button type="button" className="button button--primary" data-testid="open-folder" disabled={running} onClick={openFolder}>
        Open dataset folder…
      </button>
      <SelectField inline label="Role" testId="import-role" value={role} disabled={running} options={ROLE_OPTIONS} onChange={setRole} />
      {!canPickFolder && showPathForm && (
        <form className="import-panel__form" onSubmit={submitPath}>
          <label className="field">
            <span>Folder on the server machine</span>
            <input
              type="text"
              data-testid="folder-path"
              placeholder="/data/cityscapes"
              value={folder}
              spellCheck={false}
              autoFocus
              onChange={(event) => setFolder(event.target.value)}
            />
          </label>
          <button type="submit" className="button" data-testid="import-submit" disabled={running || folder.trim() === ''}>
            Import
          </button>
        </form>
      )}
      {state.status === 'running' && (
        <ProgressBar progress={importJobs.at(-1) ?? null} label="Importing" testId="job-progress" />
      )}
      {state.status === 'failed' && (
        <p className="import-panel__error" role="alert" data-testid="import-error">
          {state.message}
        </p>
      )}
      {state.status === 'done' && <ImportSummary result={state.result} />}
    </section>
  );
}

function ImportSummary({ result }: { result: ImportResult }) {
  const api = useApi();
  const [problems, setProblems] = useState<ImportProblem[] | string | null>(null);
  const { counts } = result;

  function loadProblems(open: boolean) {
    if (!open || problems !== null) return;
    api.listImportProblems({ datasetId: result.datasetId }).then(setProblems, (error: unknown) => setProblems(errorMessage(error)));
  }

  return (
    <div className="import-summary" data-testid="import-summary">
      <p>
        Imported {result.kind} as <strong>{result.role}</strong>: {counts.train} train, {counts.val} val, {counts.test} test;{' '}
        {result.withLabels} with labels, {result.withDepth} with depth{result.depthSource ? ` (${DEPTH_SOURCE_NAMES[result.depthSource]})` : ''}.
      </p>
      {result.problems.length === 0 ? (
        <p className="muted">No problems.</p>
      ) : (
        <details onToggle={(event) => loadProblems(event.currentTarget.open)}>
          <summary data-testid="import-problems">
            {result.problems.length} problem{result.problems.length === 1 ? '' : 's'}
          </summary>
          {problems === null && <p className="muted">Loading…</p>}
          {typeof problems === 'string' && <p className="error-text">{problems}</p>}
          {Array.isArray(problems) && (
            <ul className="import-summary__problems">
              {problems.map((problem, index) => (
                <li key={`${index}:${problem.file}`}>
                  <code>{problem.file}</code> {problem.error}
                </li>
              ))}
            </ul>
          )}
        </details>
      )}
    </div>
  );
}
