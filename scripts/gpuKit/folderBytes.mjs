// The bytes of every file below a folder (the kit's 60 MiB limit is checked on this).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function folderBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}
