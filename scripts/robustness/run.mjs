#!/usr/bin/env node
// The robustness suite (issue 11): throws hostile and unlucky inputs at a real `corda serve` and a real `corda`
// CLI (the build in out/main/cli.js) on throwaway projects, and prints a table of inputs tried, crashes and data
// lost. Exits non-zero when any case crashed, lost data or otherwise misbehaved.
//
//   npm run robustness                       every case, kill trials 20 times each
//   node scripts/robustness/run.mjs --fast   the quick subset run by `npm test` (cases marked fast, 2 trials)
//   options: --only TEXT (cases whose group/name contains TEXT), --seed N (kill moments), --keep (keep temp files)
//
// Case modules: every scripts/robustness/*.mjs except this file (and *.test.mjs) exports
//   export const cases = [{ name, group, fast?: boolean, run: async (ctx) => void }]
// A case throws an Error whose message is one sentence when the app misbehaves; throw ctx.dataLost(sentence)
// when data was lost. ctx:
//   ctx.cli(args, { cwd, env, timeoutMs, user: 'nobody', allowInternal }) → Promise<{ status, signal, stdout, stderr, ms }>
//       runs `node out/main/cli.js ARGS`; a stack trace, an uncaught error or a signal death in its output is a crash
//       (the case stops with a CrashError); so is "internal error" unless allowInternal. A timeout is a hang (crash).
//   ctx.spawnCli(args, opts) → { child, result: Promise<same as cli> } for killing it mid-way (ctx.kill(child))
//   ctx.expectSentence(result, pattern?) → checks a refusal: non-zero exit, one line on stderr starting "corda: "
//   ctx.serve({ project?, user? }) → Promise<{ port, token, url, child, project, alive(), stop(), kill(), call(method, input) }>
//       a real `corda serve --port 0` on `project` (default: a throwaway copy of the demo project); stop() fails the
//       case with a CrashError when the server died by itself or printed a stack trace; call() is one WebSocket
//       request ({ ok, result | error }).
//   ctx.tmp() → a fresh temp folder (all removed at the end)
//   ctx.demo() → { root, cityscapes, gta5 } a small demo dataset shared by all cases: copy it before changing it
//   ctx.copyDemo(kind) → a private copy of demo dataset `kind` ('cityscapes' | 'gta5')
//   ctx.project({ round }) → a private copy of a project holding the demo's cityscapes (target) and gta5 (source);
//       round: true → with one finished tiny round
//   ctx.db(projectDir) → a better-sqlite3 connection (close it); ctx.integrity(projectDir) → throws dataLost unless
//       PRAGMA integrity_check says ok
//   ctx.trials(n) → n (2 with --fast); ctx.tried(n) → counts n more inputs for this case (each case counts 1 at least)
//   ctx.note(text) → a line printed under the case's result (e.g. how many kills landed mid-way)
//   ctx.random() → a seeded number in [0, 1); ctx.sleep(ms); ctx.kill(child) → SIGKILL and wait for the exit
//   ctx.asNobody → whether cases can run a CLI as an unprivileged user (root here: permissions do not bind root)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout, clearTimeout } from 'node:timers';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
// CORDA_CLI: another build of the CLI to try (e.g. an older commit's, to see which cases catch what it got wrong).
const CLI = process.env.CORDA_CLI ?? join(ROOT, 'out', 'main', 'cli.js');
const require = createRequire(join(ROOT, 'package.json'));

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const FAST = flag('--fast');
const ONLY = option('--only');
const KEEP = flag('--keep');
const SEED = Number(option('--seed') ?? process.env.ROBUSTNESS_SEED ?? Date.now() % 100000);

export class CrashError extends Error {}
export class DataLostError extends Error {}

/** A Node stack trace or uncaught-error header anywhere in `text`. */
export function looksLikeCrash(text) {
  return /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>)$/m.test(text) || /^(\w*Error|Error)(:| \[)/m.test(text) || /^node:internal/m.test(text) || /^Uncaught /m.test(text);
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath];
const canSetpriv = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
// A checkout inside a folder only root may enter (a private mktemp -d) cannot be run by `nobody`: the permission
// cases then say so and try nothing, rather than read the loader's error as a crash.
const nobodyBlocked =
  canSetpriv && spawnSync(asNobody[0], [...asNobody.slice(1), CLI, '--version']).status !== 0
    ? `the user nobody cannot run ${CLI} (a folder above it is closed to other users), so permissions were not tried`
    : null;
const canRunAsNobody = canSetpriv && !nobodyBlocked;

function runChild(args, opts = {}) {
  const command = opts.user === 'nobody' ? asNobody[0] : process.execPath;
  const prefix = opts.user === 'nobody' ? asNobody.slice(1) : [];
  const child = spawn(command, [...prefix, CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CORDA_DEBUG: '', ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const started = Date.now();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const result = new Promise((resolve) => {
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
  return { child, result };
}

function crashCheck(args, r, { killedByUs = false, allowInternal = false } = {}) {
  const what = `corda ${args.slice(0, 3).join(' ')}`;
  if (r.timedOut) throw new CrashError(`${what} hung: it was still running after ${r.ms} ms.`);
  if (looksLikeCrash(r.stderr) || looksLikeCrash(r.stdout)) {
    throw new CrashError(`${what} printed a stack trace: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' | ')}`);
  }
  if (r.signal && !killedByUs) throw new CrashError(`${what} died of ${r.signal}.`);
  if (!allowInternal && /internal error/i.test(r.stderr)) throw new CrashError(`${what} answered with an internal error: ${r.stderr.trim()}`);
}

async function main() {
  if (!existsSync(CLI)) {
    console.error(`robustness: ${CLI} is missing; build first (npx electron-vite build).`);
    process.exit(2);
  }
  const modules = readdirSync(HERE)
    .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.endsWith('.test.mjs'))
    .sort();
  const all = [];
  for (const file of modules) {
    const mod = await import(pathToFileURL(join(HERE, file)).href);
    if (!Array.isArray(mod.cases)) {
      console.error(`robustness: ${file} exports no \`cases\` array; skipped.`);
      continue;
    }
    for (const c of mod.cases) all.push({ ...c, module: file });
  }
  const chosen = all.filter((c) => (!FAST || c.fast) && (!ONLY || `${c.group} ${c.name}`.includes(ONLY)));

  const work = mkdtempSync(join(tmpdir(), 'corda-robustness-'));
  chmodSync(work, 0o755);
  // Readable by everyone, so that a case may run the CLI as an unprivileged user on what it puts there.
  const tmp = () => {
    const dir = mkdtempSync(join(work, 't'));
    chmodSync(dir, 0o755);
    return dir;
  };
  const random = mulberry32(SEED);
  const servers = new Set();

  // Shared fixtures, made once: a small demo dataset and projects holding it (with and without a finished round).
  const fixtures = {};
  const fixtureCli = async (args) => {
    const { result } = runChild(args, { timeoutMs: 180_000 });
    const r = await result;
    if (r.status !== 0) throw new Error(`fixture: corda ${args.join(' ')} failed: ${r.stderr.trim()}`);
    return r;
  };
  const demo = async () => {
    if (!fixtures.demo) {
      const root = join(work, 'demo');
      await fixtureCli(['demo-data', root, '--images', '6', '--size', '64x32', '--seed', '7']);
      fixtures.demo = { root, cityscapes: join(root, 'cityscapes'), gta5: join(root, 'gta5') };
    }
    return fixtures.demo;
  };
  const templateProject = async (round) => {
    const key = round ? 'projectRound' : 'project';
    if (!fixtures[key]) {
      const d = await demo();
      const dir = join(work, key);
      await fixtureCli(['import', d.cityscapes, '--project', dir]);
      await fixtureCli(['import', d.gta5, '--project', dir]);
      if (round) await fixtureCli(['adapt', '--project', dir, '--iters', '2', '--crop', '64x32', '--working-width', '64', '--eval-every', '0']);
      fixtures[key] = dir;
    }
    return fixtures[key];
  };
  const copyTree = (from) => {
    const to = join(tmp(), 'copy');
    cpSync(from, to, { recursive: true });
    return to;
  };

  const Database = require('better-sqlite3');
  const openDb = (projectDir) => new Database(join(projectDir, 'workbench.sqlite'));

  const results = [];
  const started = Date.now();
  let finished = false;
  process.on('exit', () => {
    if (!finished) {
      console.error('robustness: the runner stopped before it finished (something awaited can never settle).');
      process.exitCode = 2;
    }
  });
  console.log(`robustness: ${chosen.length} case(s) from ${modules.join(', ')}${FAST ? ' (fast)' : ''}, seed ${SEED}`);
  for (const c of chosen) {
    let inputs = 0;
    const notes = [];
    const ctx = {
      note: (text) => void notes.push(text),
      fast: FAST,
      asNobody: canRunAsNobody,
      nobodyBlocked,
      random,
      sleep,
      tmp,
      trials: (n) => (FAST ? Math.min(n, 2) : n),
      tried: (n = 1) => void (inputs += n),
      dataLost: (sentence) => new DataLostError(sentence),
      demo,
      copyDemo: async (kind) => copyTree((await demo())[kind]),
      // A private copy of the template project whose datasets point at private copies of the demo data.
      project: async ({ round = false } = {}) => {
        const dir = copyTree(await templateProject(round));
        const d = await demo();
        const data = tmp();
        const db = openDb(dir);
        try {
          for (const kind of ['cityscapes', 'gta5']) {
            cpSync(d[kind], join(data, kind), { recursive: true });
            db.prepare('UPDATE datasets SET root = ? WHERE root = ?').run(join(data, kind), d[kind]);
          }
        } finally {
          db.close();
        }
        return dir;
      },
      db: openDb,
      integrity: (projectDir) => {
        const db = openDb(projectDir);
        try {
          const rows = db.pragma('integrity_check', { simple: false }).map((r) => Object.values(r)[0]);
          if (rows.length !== 1 || rows[0] !== 'ok') throw new DataLostError(`integrity_check of ${projectDir} says: ${rows.slice(0, 3).join('; ')}`);
        } finally {
          db.close();
        }
      },
      cli: async (args, opts = {}) => {
        const r = await runChild(args, opts).result;
        crashCheck(args, r, opts);
        return r;
      },
      spawnCli: (args, opts = {}) => {
        const run = runChild(args, opts);
        return {
          child: run.child,
          result: run.result.then((r) => {
            crashCheck(args, r, { ...opts, killedByUs: r.signal === 'SIGKILL' && run.child.killedByUs });
            return r;
          }),
        };
      },
      kill: async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return false;
        child.killedByUs = true;
        const exited = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGKILL');
        await exited;
        return true;
      },
      expectSentence: (r, pattern) => {
        // Progress lines may come first; the refusal is the one line that starts with "corda: ", and it is the last.
        const all = r.stderr.trim().split('\n');
        const lines = all.filter((l) => l.startsWith('corda: '));
        if (r.status === 0) throw new Error(`expected a refusal, but the command succeeded: ${r.stdout.trim().slice(0, 200)}`);
        if (lines.length !== 1 || all[all.length - 1] !== lines[0]) throw new Error(`expected one sentence on stderr, got: ${r.stderr.trim().slice(-400)}`);
        if (pattern && !pattern.test(lines[0])) throw new Error(`the sentence does not say what was expected (${pattern}): ${lines[0]}`);
        return lines[0];
      },
      serve: async ({ project, user } = {}) => {
        // Cases change dataset files: every server gets its own copies of the datasets.
        const dir = project ?? (await ctx.project());
        const run = runChild(['serve', '--project', dir, '--port', '0'], { timeoutMs: 3_600_000, user });
        const url = await new Promise((resolve, reject) => {
          let out = '';
          const timer = setTimeout(() => reject(new Error(`corda serve printed no URL in 20 s: ${out}`)), 20_000);
          run.child.stdout.on('data', (chunk) => {
            out += chunk;
            const m = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/);
            if (m) {
              clearTimeout(timer);
              resolve(m[0]);
            }
          });
          run.child.once('close', (code) => reject(new CrashError(`corda serve exited with ${code} before printing its URL.`)));
        });
        const parsed = new URL(url);
        const handle = {
          url,
          port: Number(parsed.port),
          token: parsed.searchParams.get('token'),
          child: run.child,
          project: dir,
          alive: async () => {
            if (run.child.exitCode !== null || run.child.signalCode !== null) return false;
            try {
              const res = await globalThis.fetch(`http://127.0.0.1:${parsed.port}/?token=${handle.token}`, { signal: globalThis.AbortSignal.timeout(5000) });
              await res.arrayBuffer();
              return true;
            } catch {
              return false;
            }
          },
          call: (method, input) => wsCall(handle, method, input),
          kill: async () => {
            servers.delete(handle);
            await ctx.kill(run.child);
          },
          stop: async () => {
            servers.delete(handle);
            const diedAlone = run.child.exitCode !== null || run.child.signalCode !== null;
            if (!diedAlone) {
              const exited = new Promise((resolve) => run.child.once('close', resolve));
              run.child.kill('SIGTERM');
              await Promise.race([exited, sleep(10_000)]);
              if (run.child.exitCode === null && run.child.signalCode === null) await ctx.kill(run.child);
            }
            const r = await run.result;
            if (diedAlone) throw new CrashError(`corda serve died by itself (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
            if (looksLikeCrash(r.stderr)) throw new CrashError(`corda serve printed a stack trace: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
          },
        };
        servers.add(handle);
        return handle;
      },
    };
    const t0 = Date.now();
    let outcome = 'ok';
    let message = '';
    try {
      // A case that hangs is a failure, and the timer keeps Node from exiting silently on a promise never settled.
      const limit = (c.timeoutMs ?? 480_000) * (FAST ? 0.25 : 1);
      let timer;
      const hung = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new CrashError(`the case did not finish within ${limit / 1000} s (a hang).`)), limit);
      });
      await Promise.race([c.run(ctx), hung]).finally(() => clearTimeout(timer));
    } catch (error) {
      outcome = error instanceof CrashError ? 'crash' : error instanceof DataLostError ? 'lost' : 'fail';
      message = error?.message ?? String(error);
      if (outcome === 'fail' && process.env.ROBUSTNESS_DEBUG) console.error(error);
    }
    for (const s of [...servers]) await s.kill().catch(() => undefined);
    results.push({ ...c, inputs: Math.max(1, inputs), outcome, message, ms: Date.now() - t0 });
    if (notes.length) message = [message, ...notes].filter(Boolean).join('\n      ');
    const mark = outcome === 'ok' ? 'ok  ' : outcome.toUpperCase().padEnd(4);
    console.log(`${mark} ${c.group} · ${c.name} (${Math.max(1, inputs)} input${inputs > 1 ? 's' : ''}, ${((Date.now() - t0) / 1000).toFixed(1)} s)${message ? `\n      ${message}` : ''}`);
  }
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`robustness: temp files kept in ${work}`);

  const groups = [...new Set(results.map((r) => r.group))];
  const row = (label, rs) => [
    label,
    rs.length,
    rs.reduce((n, r) => n + r.inputs, 0),
    rs.filter((r) => r.outcome === 'crash').length,
    rs.filter((r) => r.outcome === 'lost').length,
    rs.filter((r) => r.outcome === 'fail').length,
  ];
  const rows = [['group', 'cases', 'inputs tried', 'crashes', 'data lost', 'other failures'], ...groups.map((g) => row(g, results.filter((r) => r.group === g))), row('total', results)];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join(' | ')} |`;
  console.log('');
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
  const bad = results.filter((r) => r.outcome !== 'ok');
  console.log(`\n${bad.length === 0 ? 'robustness: all cases held' : `robustness: ${bad.length} case(s) misbehaved`} in ${((Date.now() - started) / 1000).toFixed(0)} s (seed ${SEED}).`);
  process.exitCode = bad.length === 0 ? 0 : 1;
  finished = true;
}

/** One request over the server's WebSocket: resolves with the reply ({ ok, result } or { ok: false, error }). */
function wsCall(handle, method, input, timeoutMs = 30_000) {
  const WebSocket = require('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${handle.port}/api/ws?token=${handle.token}`);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${method} got no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method, input })));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.id === 1) {
        clearTimeout(timer);
        ws.close();
        resolve(msg);
      }
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(`robustness: the runner itself failed: ${error?.stack ?? error}`);
    process.exitCode = 2;
  });
}
