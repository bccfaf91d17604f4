// The GPU check kit end to end on SwiftShader: `npm run gpu-kit` builds it, it fits in 60 MiB, and `sh run.sh --quick`
// from a PATH without node (and without xz, so the Python unpacking path runs) prints the adapter, tiny and small
// step times and a passing loss check. Several minutes on two cores, so it runs only with CORDA_GPU_KIT=1
// (.ci/run sets it); SwiftShader is Debian chromium's, as in src/core/adapt/webgpu.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderBytes } from './folderBytes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const LIMIT_BYTES = 60 * 2 ** 20;

const why = !process.env.CORDA_GPU_KIT
  ? 'set CORDA_GPU_KIT=1 to build the kit and run it on SwiftShader (several minutes)'
  : !existsSync(ICD)
    ? `it needs Chromium's SwiftShader (${ICD}; apt-get install chromium)`
    : null;
if (why) console.log(`Skipping the GPU check kit test: ${why}.`);

/** A folder of links to every program on PATH except the named ones: a machine without them. */
function pathWithout(dir, names) {
  mkdirSync(dir);
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (!folder || !existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      if (names.includes(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(folder, name), join(dir, name));
    }
  }
  return dir;
}

describe.skipIf(why)('the GPU check kit', () => {
  let work = '';
  let kit = '';
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'corda-gpu-kit-test-'));
    kit = join(work, 'gpu-kit');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('builds into one folder of at most 60 MiB', () => {
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'gpuKit', 'build.mjs'), '--out', kit], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(build.stdout).toMatch(/gpu-kit: .* written, [\d.]+ MiB/);
    expect(folderBytes(kit)).toBeLessThanOrEqual(LIMIT_BYTES);
    for (const file of ['run.sh', 'node.xz', 'dawn.node.xz', 'app/gpu-check.cjs', 'lib/libvulkan.so.1', 'app/scripts/bench_torch.py']) expect(existsSync(join(kit, file)), file).toBe(true);
  }, 900_000);

  it('runs on SwiftShader without node on PATH and prints the adapter, tiny and small timings and a passing loss check', async () => {
    const bin = pathWithout(join(work, 'bin'), ['node', 'nodejs', 'npm', 'npx', 'corepack', 'xz']);
    expect(spawnSync('sh', ['-c', 'command -v node || command -v xz'], { env: { PATH: bin } }).status).not.toBe(0);
    const env = { PATH: bin, HOME: work, TMPDIR: work, VK_ICD_FILENAMES: ICD, KIT_PYTHON: '/usr/bin/python3', KIT_BUDGET_S: '2400' };
    const child = spawn('sh', [join(kit, 'run.sh'), '--quick'], { cwd: work, env });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    expect(out).toMatch(/^adapter: SwiftShader \(software\)$/m);
    expect(out).toMatch(/^loss check: tiny 32x16, batch 1, 3 CorDA steps .* against webgpu · SwiftShader \(software\)$/m);
    const steps = [...out.matchAll(/^loss check: +\d+ \| ([\d.]+) \| ([\d.]+) \|/gm)];
    expect(steps).toHaveLength(3);
    expect(out).toMatch(/^loss check: pass: max relative difference \S+ at step \d \(tolerance 0\.0001\)$/m);
    expect(out).toMatch(/^engine backend: webgpu · SwiftShader \(software\)/m);
    for (const preset of ['tiny', 'small']) expect(out).toMatch(new RegExp(`^\\| ${preset} +\\| 32x16 +\\| \\d+ +\\|`, 'm'));
    expect(out).not.toMatch(/^\| paper /m);
    // PyTorch: its figures where the interpreter has torch, else one sentence saying it has none.
    expect(out).toMatch(/torch [\d.a-z+]+ ms\/step|^pytorch: not measured \(/m);
    expect(out).toMatch(/^== done in \d+ s; loss check: pass$/m);
    // The kit removes what it unpacked.
    expect(readdirSync(work).filter((f) => f.startsWith('corda-gpu-kit.'))).toEqual([]);
  }, 2_700_000);
});
