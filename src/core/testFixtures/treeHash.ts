// For tests that promise a user's dataset folder is never modified: one hash over every path, file content and
// modification time below a folder (FIFOs and other special files count by name only; reading them would block).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, entry.name);
      hash.update(relative(dir, p));
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) hash.update(readFileSync(p)).update(String(statSync(p).mtimeMs));
    }
  };
  walk(dir);
  return hash.digest('hex');
}
