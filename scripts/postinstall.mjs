// Runs after `npm install` / `npm ci`.
// Electron is an optional dependency: where its binary cannot be downloaded (offline machines, CI) npm drops
// the package, so this script puts the package files (its type definitions and launcher) back without the
// binary and explains that the desktop window is unavailable; `npm start` then falls back to web mode.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const electronVersion = pkg.optionalDependencies.electron;
const electronDir = join(root, 'node_modules', 'electron');

function electronBinaryPresent() {
  try {
    const rel = readFileSync(join(electronDir, 'path.txt'), 'utf8');
    return existsSync(join(electronDir, 'dist', rel));
  } catch {
    return false;
  }
}

// Electron loads native addons built for its own ABI; the CLI, web mode and tests use plain Node's. Build a
// second copy of better-sqlite3 for Electron beside the normal one (core/store/nativeBinding.ts picks it).
function buildSqliteForElectron() {
  const target = join(root, 'native', 'electron', 'better_sqlite3.node');
  const work = mkdtempSync(join(tmpdir(), 'corda-sqlite-'));
  try {
    const source = join(root, 'node_modules', 'better-sqlite3');
    cpSync(source, work, { recursive: true, filter: (p) => !p.startsWith(join(source, 'build')) });
    const nodeGyp = process.env.npm_config_node_gyp;
    const args = ['rebuild', '--release', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'];
    if (nodeGyp) execFileSync(process.execPath, [nodeGyp, ...args], { cwd: work, stdio: 'inherit' });
    else execFileSync('npx', ['--yes', 'node-gyp', ...args], { cwd: work, stdio: 'inherit', shell: process.platform === 'win32' });
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), target);
    console.log(`corda: built better-sqlite3 for Electron ${electronVersion} (${target}).`);
  } catch (error) {
    console.warn(`corda: could not build better-sqlite3 for Electron (${error.message.split('\n')[0]}); the desktop app will not open projects until \`npm rebuild\` succeeds. Web mode and the CLI are unaffected.`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (electronBinaryPresent()) {
  buildSqliteForElectron();
  console.log(`corda: Electron ${electronVersion} is installed; \`npm start\` opens the desktop window.`);
  process.exit(0);
}

if (!existsSync(join(electronDir, 'electron.d.ts'))) {
  const work = mkdtempSync(join(tmpdir(), 'corda-electron-'));
  try {
    execFileSync('npm', ['pack', `electron@${electronVersion}`, '--silent', '--pack-destination', work], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
    execFileSync('tar', ['-xzf', `electron-${electronVersion}.tgz`], { cwd: work });
    mkdirSync(electronDir, { recursive: true });
    cpSync(join(work, 'package'), electronDir, { recursive: true });
  } catch (error) {
    console.warn(`corda: could not restore the electron package files (${error.message.split('\n')[0]}).`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

console.log(
  [
    '',
    'corda: the Electron binary could not be downloaded on this machine, so the desktop window is unavailable here.',
    '       Everything else is installed. `npm start` will run the workbench in web mode and print a URL to open',
    '       in a browser. On a machine with internet access, `npm install` downloads Electron as usual.',
    '',
  ].join('\n'),
);
