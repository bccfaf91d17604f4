// Runs the built CLI for the e2e specs: one-shot commands, and `corda serve` on a free port (or a given one).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', 'out', 'main', 'cli.js');

export function corda(...args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`corda ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** Starts the web-mode server for a project (on `port`; 0: a free one); resolves with its tokened URL once it prints it. */
export async function serve(projectDir: string, port = 0): Promise<{ url: string; server: ChildProcess }> {
  const server = spawn(process.execPath, [CLI, 'serve', '--project', projectDir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`corda serve printed no URL: ${out}`)), 20_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`corda serve exited with ${code}: ${out}`)));
  });
  return { url, server };
}

export async function stop(server: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill(signal);
  await exited;
}
