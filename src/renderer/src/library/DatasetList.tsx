import { DEPTH_SOURCE_NAMES, type Dataset } from '../../../shared/api';
import './library.css';

interface DatasetListProps {
  datasets: Dataset[] | null;
  selectedId: number | null;
  onSelect: (datasetId: number) => void;
}

const KIND_NAMES: Record<Dataset['kind'], string> = { cityscapes: 'Cityscapes', gta5: 'GTA5', synthia: 'SYNTHIA' };

export function DatasetList({ datasets, selectedId, onSelect }: DatasetListProps) {
  if (datasets === null) return <p className="muted sidebar__note">Loading datasets…</p>;
  if (datasets.length === 0) {
    return (
      <p className="muted sidebar__note" data-testid="dataset-list-empty">
        No datasets yet. Open a Cityscapes, GTA5 or SYNTHIA folder below.
      </p>
    );
  }
  return (
    <ul className="dataset-list" data-testid="dataset-list">
      {datasets.map((dataset) => {
        const total = dataset.counts.train + dataset.counts.val + dataset.counts.test;
        const selected = dataset.id === selectedId;
        return (
          <li key={dataset.id}>
            <button
              type="button"
              className={`dataset-item${selected ? ' dataset-item--selected' : ''}`}
              data-testid="dataset-item"
              data-dataset-id={dataset.id}
              data-role={dataset.role}
              aria-pressed={selected}
              title={dataset.root}
              onClick={() => onSelect(dataset.id)}
            >
              <span className="dataset-item__head">
                <span className="dataset-item__name">{dataset.name}</span>
                <span className={`badge badge--${dataset.role}`} data-testid="dataset-role">
                  {dataset.role}
                </span>
              </span>
              <span className="dataset-item__meta">
                <span className="dataset-item__kind">{KIND_NAMES[dataset.kind]}</span>
                <span>{total.toLocaleString()} images</span>
              </span>
              <span className="dataset-item__counts">
                <span title="train images">train {dataset.counts.train.toLocaleString()}</span>
                <span title="val images">val {dataset.counts.val.toLocaleString()}</span>
                <span title="test images">test {dataset.counts.test.toLocaleString()}</span>
                <span title="images with ground-truth labels">labelled {dataset.withLabels.toLocaleString()}</span>
                {dataset.depthSource && (
                  <span title={`images with depth: ${DEPTH_SOURCE_NAMES[dataset.depthSource]}`}>depth {dataset.withDepth.toLocaleString()}</span>
                )}
              </span>
              {dataset.problems > 0 && (
                <span className="dataset-item__problems">
                  {dataset.problems} import problem{dataset.problems === 1 ? '' : 's'}
                </span>
              )}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
