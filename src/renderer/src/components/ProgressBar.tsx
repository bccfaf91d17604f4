import type { JobProgress } from '../../../shared/api';
import './ProgressBar.css';

interface ProgressBarProps {
  /** Null shows an indeterminate bar (work started, no progress reported yet). */
  progress: JobProgress | null;
  label: string;
  testId?: string;
  compact?: boolean;
}

export function ProgressBar({ progress, label, testId, compact = false }: ProgressBarProps) {
  const fraction = progress && progress.total > 0 ? Math.min(1, progress.done / progress.total) : null;
  const percent = fraction === null ? undefined : Math.round(fraction * 100);
  const details = progress ? describeProgress(progress, label) : 'starting…';
  return (
    <div className={`progress${compact ? ' progress--compact' : ''}`} data-testid={testId}>
      <div className="progress__text">
        <span className="progress__label">{label}</span>
        <span className="progress__details">{details}</span>
      </div>
      <div
        className="progress__track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div
          className={`progress__fill${fraction === null ? ' progress__fill--indeterminate' : ''}`}
          style={fraction === null ? undefined : { width: `${fraction * 100}%` }}
        />
      </div>
    </div>
  );
}

function describeProgress(progress: JobProgress, label: string): string {
  const parts = progress.phase.toLowerCase() === label.toLowerCase() ? [] : [progress.phase];
  if (progress.total > 0) parts.push(`${progress.done.toLocaleString()} / ${progress.total.toLocaleString()}`);
  if (progress.etaSeconds !== null && progress.etaSeconds > 0) parts.push(`${formatDuration(progress.etaSeconds)} left`);
  if (progress.message) parts.push(progress.message);
  return parts.join(' · ');
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
