import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { SelectField, type SelectOption } from './SelectField';

const OPTIONS: SelectOption<'a' | 'b'>[] = [
  { value: 'a', label: 'first' },
  { value: 'b', label: 'second' },
];

describe('the select field', () => {
  it('labels a select of the options with the chosen one selected, stacked or inline', () => {
    const markup = renderToStaticMarkup(createElement(SelectField<'a' | 'b'>, { label: 'Pick', testId: 'pick', value: 'b', options: OPTIONS, onChange: () => undefined }));
    expect(markup).toBe(
      '<label class="field"><span>Pick</span><select data-testid="pick"><option value="a">first</option><option value="b" selected="">second</option></select></label>',
    );
    const inline = renderToStaticMarkup(createElement(SelectField<'a' | 'b'>, { label: 'Pick', value: 'a', options: OPTIONS, onChange: () => undefined, inline: true, disabled: true }));
    expect(inline).toMatch(/^<label class="field field--inline"><span>Pick<\/span><select disabled="">/);
  });
});
