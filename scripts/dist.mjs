// `npm run dist [-- --dir]`: installers for this OS with electron-builder (electron-builder.config.ts): Linux
// AppImage + deb, macOS dmg, Windows nsis; `--dir` makes only the unpacked app folder. Everything that can fail
// for want of a download is checked first, so a machine that cannot get Electron hears it in one sentence.
/* global fetch, AbortSignal */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function fail(sentence, code = 1) {
  console.error(`corda dist: ${sentence}`);
  process.exit(code);
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--dir');
if (unknown.length) fail(`unknown option ${unknown[0]}; the only option is --dir (the unpacked app folder, no installer).`, 2);
const dirOnly = args.includes('--dir');

// The package is CommonJS, so the TypeScript config loads through tsx's require hook.
require('tsx/cjs');
const { default: config, ELECTRON_VERSION } = require('../electron-builder.config.ts');
const platform = process.platform;
const arch = process.arch;
const zipName = `electron-v${ELECTRON_VERSION}-${platform}-${arch}.zip`;

function installedElectronDist() {
  const dir = join(root, 'node_modules', 'electron', 'dist');
  try {
    return existsSync(join(dir, readFileSync(join(root, 'node_modules', 'electron', 'path.txt'), 'utf8').trim())) ? dir : null;
  } catch {
    return null;
  }
}

function electronCacheDir() {
  if (process.env.ELECTRON_CACHE) return process.env.ELECTRON_CACHE;
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'electron');
  if (platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'electron', 'Cache');
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'electron');
}

/** The folder holding a cached Electron zip for this OS (the cache itself or one of its hashed subfolders). */
function cachedZipDir() {
  const cache = electronCacheDir();
  if (!existsSync(cache)) return null;
  if (existsSync(join(cache, zipName))) return cache;
  for (const entry of readdirSync(cache, { withFileTypes: true })) {
    if (entry.isDirectory() && existsSync(join(cache, entry.name, zipName))) return join(cache, entry.name);
  }
  return null;
}

async function downloadProblem() {
  const mirror = process.env.ELECTRON_MIRROR ?? 'https://github.com/electron/electron/releases/download/';
  const url = `${mirror}${process.env.ELECTRON_CUSTOM_DIR ?? `v${ELECTRON_VERSION}`}/${zipName}`;
  try {
    const response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(15_000) });
    return response.ok ? null : `${url} answered ${response.status}`;
  } catch (error) {
    return `${url} could not be reached (${error.cause?.code ?? error.message})`;
  }
}

// Electron for the app: the binary npm installed, else a zip already in Electron's cache, else a download.
let electronDist = installedElectronDist() ?? cachedZipDir();
if (!electronDist) {
  const problem = await downloadProblem();
  if (problem) {
    fail(
      `cannot get Electron ${ELECTRON_VERSION} for ${platform}-${arch}: there is no Electron binary in node_modules/electron, no ${zipName} in ${electronCacheDir()}, and ${problem}; ` +
        'run `npm install` where GitHub is reachable (or put that zip into the cache folder), then `npm run dist` again.',
    );
  }
}

// Native addons are built for the OS that runs the build, so each OS builds its own installer.
const binding = join(root, 'native', 'electron', 'better_sqlite3.node');
if (!existsSync(binding)) {
  fail(
    'better-sqlite3 has not been built for Electron here (native/electron/better_sqlite3.node is missing, because `npm install` could not get Electron); ' +
      'run `npm install` on a machine that can download Electron, then `npm run dist` again.',
  );
}

console.log('Building the app (electron-vite build) …');
const built = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) fail('the app did not build (see above); fix that first, then run `npm run dist` again.');

const { build, Platform } = require('electron-builder');
try {
  const files = await build({
    projectDir: root,
    targets: Platform.current().createTarget(dirOnly ? 'dir' : null),
    config: { ...config, ...(electronDist && { electronDist }) },
    publish: 'never',
  });
  console.log(`corda dist: done: ${files.length ? files.join(', ') : join(root, 'dist')}`);
} catch (error) {
  const first = String(error?.message ?? error).split('\n').find((line) => line.trim()) ?? 'unknown error';
  const network = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|dial tcp|getaddrinfo|no such host/i.test(String(error?.message ?? ''));
  fail(
    network
      ? `electron-builder could not download what it needs (${first.trim()}); it fetches its packaging tools (AppImage, fpm, NSIS) on first use, so run \`npm run dist\` where GitHub is reachable.`
      : `electron-builder failed: ${first.trim()}; run \`DEBUG=electron-builder npm run dist\` for details.`,
  );
}
