// Before the specs: a demo dataset, a fresh project with its Cityscapes part imported as target, and the
// web-mode server on a free port. The specs read the URL and folders from the environment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corda, serve, stop } from './server';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const work = mkdtempSync(join(tmpdir(), 'corda-e2e-'));
  const demoDir = join(work, 'demo');
  const projectDir = join(work, 'project');
  corda('demo-data', demoDir, '--images', '24', '--size', '512x256', '--seed', '7');
  corda('import', join(demoDir, 'cityscapes'), '--project', projectDir, '--json');

  const { url, server } = await serve(projectDir);

  process.env.CORDA_E2E_URL = url;
  process.env.CORDA_E2E_DEMO_DIR = demoDir;
  process.env.CORDA_E2E_PROJECT_DIR = projectDir;

  return async () => {
    await stop(server);
    rmSync(work, { recursive: true, force: true });
  };
}
