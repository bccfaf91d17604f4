import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The built renderer: beside the bundled CLI (out/main → out/renderer), or out/renderer when run from src/. */
export function rendererDir(): string {
  if (process.env.CORDA_RENDERER_DIR) return process.env.CORDA_RENDERER_DIR;
  const bundled = join(__dirname, '..', 'renderer');
  return existsSync(join(bundled, 'index.html')) ? bundled : join(__dirname, '..', '..', 'out', 'renderer');
}
