// `npm start`: builds when the sources changed, then opens the desktop window where Electron can run, or
// starts web mode and prints the URL to open. Extra arguments go to `corda serve` (e.g. -- --project DIR).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfStale() {
  const built = join(root, 'out', 'main', 'cli.js');
  const configs = ['package.json', 'electron.vite.config.ts'].map((f) => statSync(join(root, f)).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs > Math.max(newestMtime(join(root, 'src')), ...configs)) return;
  console.log('Building the workbench (electron-vite build) …');
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error('The build failed (see above). Fix the error or run `npm install` again, then retry `npm start`.');
    process.exit(1);
  }
}

function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function why() {
  if (process.env.CORDA_WEB) return 'CORDA_WEB is set';
  if (!electronBinary()) return 'the Electron binary is not installed on this machine';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display';
  return null;
}

function startWeb(reason) {
  console.log(`Starting web mode because ${reason}.`);
  const child = spawn(process.execPath, [join(root, 'out', 'main', 'cli.js'), 'serve', ...args], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}

buildIfStale();
const reason = why();
if (reason) {
  startWeb(reason);
} else {
  const started = Date.now();
  const child = spawn(electronBinary(), [root, ...args], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => {
    // A desktop that refuses the window at once (e.g. missing GPU/X libraries): fall back to web mode.
    if (code !== 0 && Date.now() - started < 5000) startWeb(`Electron exited at start (code ${code})`);
    else process.exit(code ?? 0);
  });
}
