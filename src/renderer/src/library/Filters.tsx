import type { Split } from '../../../shared/api';

export interface ImageFilters {
  split?: Split;
  city?: string;
  /** Only images with ground truth when true; no filter when false. */
  labelledOnly: boolean;
  /** Only corrected images (true), only uncorrected ones (false), or all. */
  corrected?: boolean;
  /** Hardest first (by the newest round's per-image difficulty) or by name. */
  sort?: 'name' | 'difficulty';
}

interface FiltersProps {
  filters: ImageFilters;
  cities: string[];
  onChange: (filters: ImageFilters) => void;
}

export function Filters({ filters, cities, onChange }: FiltersProps) {
  return (
    <div className="filters" role="group" aria-label="Filter images">
      <label className="field field--inline">
        <span>Split</span>
        <select
          data-testid="filter-split"
          value={filters.split ?? ''}
          onChange={(event) => onChange({ ...filters, split: (event.target.value || undefined) as Split | undefined })}
        >
          <option value="">all</option>
          <option value="train">train</option>
          <option value="val">val</option>
          <option value="test">test</option>
        </select>
      </label>
      <label className="field field--inline">
        <span>City</span>
        <select
          data-testid="filter-city"
          value={filters.city ?? ''}
          onChange={(event) => onChange({ ...filters, city: event.target.value || undefined })}
        >
          <option value="">all</option>
          {cities.map((city) => (
            <option key={city} value={city}>
              {city}
            </option>
          ))}
        </select>
      </label>
      <label className="field field--inline field--checkbox">
        <input
          type="checkbox"
          data-testid="filter-labels"
          checked={filters.labelledOnly}
          onChange={(event) => onChange({ ...filters, labelledOnly: event.target.checked })}
        />
        <span>has labels</span>
      </label>
      <label className="field field--inline">
        <span>Corrected</span>
        <select
          data-testid="filter-corrected"
          value={filters.corrected === undefined ? '' : filters.corrected ? 'yes' : 'no'}
          onChange={(event) => onChange({ ...filters, corrected: event.target.value === '' ? undefined : event.target.value === 'yes' })}
        >
          <option value="">all</option>
          <option value="yes">corrected</option>
          <option value="no">not yet</option>
        </select>
      </label>
      <label className="field field--inline">
        <span>Sort</span>
        <select
          data-testid="sort-images"
          value={filters.sort ?? 'name'}
          onChange={(event) => onChange({ ...filters, sort: event.target.value === 'difficulty' ? 'difficulty' : undefined })}
        >
          <option value="name">by name</option>
          <option value="difficulty">hardest first</option>
        </select>
      </label>
    </div>
  );
}
