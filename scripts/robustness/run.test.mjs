// The runner's crash detector: a Node stack trace or uncaught-error header counts, one sentence does not.
import { describe, expect, it } from 'vitest';
import { looksLikeCrash } from './run.mjs';

describe('looksLikeCrash', () => {
  it('spots stack traces and uncaught errors', () => {
    expect(looksLikeCrash('Error: boom\n    at main (/x/cli.js:10:5)\n')).toBe(true);
    expect(looksLikeCrash('TypeError: x is not a function')).toBe(true);
    expect(looksLikeCrash('node:internal/process/promises:288\n  triggerUncaughtException(err, true);')).toBe(true);
    expect(looksLikeCrash('SqliteError [SQLITE_CORRUPT]: database disk image is malformed')).toBe(true);
  });

  it('lets one sentence and progress lines through', () => {
    expect(looksLikeCrash('import scanning: 3/4\ncorda: /p/workbench.sqlite is damaged (it was cut short), so this project cannot be opened.\n')).toBe(false);
    expect(looksLikeCrash('iter 2/2  loss 7.175 (src ce 5.415)\ncorda: Error messages from sharp are wrapped.')).toBe(false);
  });
});
