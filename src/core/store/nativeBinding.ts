// better-sqlite3 is a native addon: plain Node (CLI, web mode, tests) and Electron need builds for different
// ABIs. `scripts/postinstall.mjs` builds an Electron copy into native/electron/ where the Electron binary exists;
// inside Electron we point better-sqlite3 at it, everywhere else the normal build is used.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from 'better-sqlite3';

export const ELECTRON_BINDING_RELATIVE = join('native', 'electron', 'better_sqlite3.node');

export function betterSqliteOptions(): Options {
  if (!process.versions.electron) return {};
  const appRoot = process.env.CORDA_APP_ROOT ?? process.cwd();
  const candidate = join(appRoot, ELECTRON_BINDING_RELATIVE);
  return existsSync(candidate) ? { nativeBinding: candidate } : {};
}
