// A labelled drop-down: the label, the select and its options, with the chosen value handed back typed as one
// of the options' values.
import type { ReactNode } from 'react';

export interface SelectOption<T extends string> {
  value: T;
  label: ReactNode;
}

interface SelectFieldProps<T extends string> {
  label: ReactNode;
  value: T | '';
  options: readonly SelectOption<T>[];
  onChange: (value: T) => void;
  testId?: string;
  disabled?: boolean;
  /** Label and select on one line (toolbars, filters) rather than stacked (forms). */
  inline?: boolean;
}

export function SelectField<T extends string>({ label, value, options, onChange, testId, disabled, inline }: SelectFieldProps<T>) {
  return (
    <label className={inline ? 'field field--inline' : 'field'}>
      <span>{label}</span>
      <select
        data-testid={testId}
        value={value}
        disabled={disabled}
        onChange={(event) => {
          const chosen = options.find((option) => option.value === event.target.value);
          if (chosen) onChange(chosen.value);
        }}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </label>
  );
}
