import type { Split } from '../../../shared/api';
import { SelectField } from '../components/SelectField';
import './library.css';

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

const SPLIT_OPTIONS: { value: Split | ''; label: string }[] = [
  { value: '', label: 'all' },
  { value: 'train', label: 'train' },
  { value: 'val', label: 'val' },
  { value: 'test', label: 'test' },
];
const CORRECTED_OPTIONS = [
  { value: '', label: 'all' },
  { value: 'yes', label: 'corrected' },
  { value: 'no', label: 'not yet' },
] as const;
const SORT_OPTIONS = [
  { value: 'name', label: 'by name' },
  { value: 'difficulty', label: 'hardest first' },
] as const;

export function Filters({ filters, cities, onChange }: FiltersProps) {
  return (
    <div className="filters" role="group" aria-label="Filter images">
      <SelectField
        inline
        label="Split"
        testId="filter-split"
        value={filters.split ?? ''}
        options={SPLIT_OPTIONS}
        onChange={(split) => onChange({ ...filters, split: split || undefined })}
      />
      <SelectField
        inline
        label="City"
        testId="filter-city"
        value={filters.city ?? ''}
        options={[{ value: '', label: 'all' }, ...cities.map((city) => ({ value: city, label: city }))]}
        onChange={(city) => onChange({ ...filters, city: city || undefined })}
      />
      <label className="field field--inline field--checkbox">
        <input
          type="checkbox"
          data-testid="filter-labels"
          checked={filters.labelledOnly}
          onChange={(event) => onChange({ ...filters, labelledOnly: event.target.checked })}
        />
        <span>has labels</span>
      </label>
      <SelectField
        inline
        label="Corrected"
        testId="filter-corrected"
        value={filters.corrected === undefined ? '' : filters.corrected ? 'yes' : 'no'}
        options={CORRECTED_OPTIONS}
        onChange={(corrected) => onChange({ ...filters, corrected: corrected === '' ? undefined : corrected === 'yes' })}
      />
      <SelectField
        inline
        label="Sort"
        testId="sort-images"
        value={filters.sort ?? 'name'}
        options={SORT_OPTIONS}
        onChange={(sort) => onChange({ ...filters, sort: sort === 'difficulty' ? 'difficulty' : undefined })}
      />
    </div>
  );
}
