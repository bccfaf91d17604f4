// Before the specs: a demo dataset, a fresh project with its Cityscapes part imported as target, and the
// web-mode server on a free port. The specs read the URL and folders from the environment.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, '..', 'out', 'main', 'cli.js');

function corda(...args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`corda ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const work = mkdtempSync(join(tmpdir(), 'corda-e2e-'));
  const demoDir = join(work, 'demo');
  const projectDir = join(work, 'project');
  corda('demo-data', demoDir, '--images', '24', '--size', '512x256', '--seed', '7');
  corda('import', join(demoDir, 'cityscapes'), '--project', projectDir, '--json');

  const server = spawn(process.execPath, [CLI, 'serve', '--project', projectDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`corda serve printed no URL: ${out}`)), 20_000);
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`corda serve exited with ${code}: ${out}`)));
  });

  process.env.CORDA_E2E_URL = url;
  process.env.CORDA_E2E_DEMO_DIR = demoDir;
  process.env.CORDA_E2E_PROJECT_DIR = projectDir;

  return async () => {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
  };
}
