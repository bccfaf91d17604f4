// The web-mode token of a project, kept in the project folder so a restarted `corda serve` answers to the same
// URL and an open page can reconnect to it. The file is readable by its owner only (0600 on POSIX) and is never
// logged. Delete it to get a new token on the next start; a file others could read is replaced the same way.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const WEB_TOKEN_FILE = 'web-token';
const TOKEN = /^[0-9a-f]{48}$/;

/** The stored token, or null when there is none or the file is not owner-only (a copy or an archive widened it). */
function storedToken(file: string): string | null {
  if (!existsSync(file)) return null;
  const ownerOnly = process.platform === 'win32' || (statSync(file).mode & 0o077) === 0;
  const stored = readFileSync(file, 'utf8').trim();
  return ownerOnly && TOKEN.test(stored) ? stored : null;
}

/** The project's token: the one stored in `projectDir`, or a new random one (24 bytes, hex) stored there. */
export function projectWebToken(projectDir: string): string {
  const file = join(projectDir, WEB_TOKEN_FILE);
  const stored = storedToken(file);
  if (stored) return stored;
  const token = randomBytes(24).toString('hex');
  // Always a new file, so it is 0600 from its first byte (`mode` applies only to a file being created).
  rmSync(file, { force: true });
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another `corda serve` of this project wrote it first: use that one.
    const theirs = (error as NodeJS.ErrnoException).code === 'EEXIST' ? storedToken(file) : null;
    if (theirs) return theirs;
    throw error;
  }
  return token;
}
