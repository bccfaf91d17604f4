// Where a worker script is: bundled beside the app (out/main/<name>.js) or, when running from the sources
// (tests, `bin/corda.js` before a build), the TypeScript file beside its caller (`sourceDir`) through tsx.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function workerEntry(name: string, sourceDir: string): { file: string; execArgv: string[] } {
  for (const dir of [__dirname, join(__dirname, '..')]) {
    const bundled = join(dir, `${name}.js`);
    if (existsSync(bundled)) return { file: bundled, execArgv: [] };
  }
  return { file: join(sourceDir, `${name}.ts`), execArgv: ['--require', require.resolve('tsx/cjs')] };
}
