// `npm run gpu-kit [-- --out DIR]`: the GPU check kit, one folder (default artifacts/gpu-kit, at most 60 MiB) that
// runs on a Linux x86-64 machine with a GPU, its Vulkan driver and PyTorch, but without Node or a network:
//   run.sh            the runner (README, "GPU training with WebGPU"): `sh run.sh` unpacks the rest and prints the report
//   node.xz           this machine's node binary, stripped of its debug symbols
//   dawn.node.xz      Dawn from the npm package webgpu (linux-x64)
//   app/              src/cli/gpuCheck.ts bundled into gpu-check.cjs with tfjs and the engine, the files it loads at
//                     run time (tfjs-backend-wasm's .wasm files, the webgpu package's loader) and scripts/bench.mjs
//                     with the PyTorch twins
//   lib/              the Vulkan loader (Debian's libvulkan1) and the libraries NVIDIA's Vulkan driver links to
//                     (libglvnd's libraries, libX11 and its own), each used there only where the machine lacks it
// The compressed binaries are cached in artifacts/.cache/gpu-kit by their sha256, so a rebuild takes seconds.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { folderBytes } from './folderBytes.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const here = dirname(fileURLToPath(import.meta.url));
const KIT_LIMIT_BYTES = 60 * 2 ** 20;
/**
 * Debian packages whose libraries go into lib/: the Vulkan loader, libglvnd's libraries (without libGLX and its
 * siblings an H200 machine's libGLX_nvidia answered "Could not get 'vkCreateInstance'", though ldd found every
 * library it links to), then what libGLX_nvidia links to.
 */
const DEBIAN_PACKAGES = ['libvulkan1', 'libglvnd0', 'libglx0', 'libegl1', 'libgl1', 'libopengl0', 'libgles2', 'libx11-6', 'libxext6', 'libxcb1', 'libxau6', 'libxdmcp6', 'libbsd0', 'libmd0'];
const SONAMES = ['libvulkan.so.1', 'libGLdispatch.so.0', 'libGLX.so.0', 'libEGL.so.1', 'libGL.so.1', 'libOpenGL.so.0', 'libGLESv2.so.2', 'libX11.so.6', 'libXext.so.6', 'libxcb.so.1', 'libXau.so.6', 'libXdmcp.so.6', 'libbsd.so.0', 'libmd.so.0'];
const TWIN_SCRIPTS = ['bench.mjs', 'bench_torch.py', 'corda_torch_net.py', 'deeplabv2_corda.py'];

/** A sentence for the user; thrown so that the staging folder is removed on the way out. */
class KitError extends Error {
  constructor(sentence, code = 1) {
    super(sentence);
    this.code = code;
  }
}
function fail(sentence, code = 1) {
  throw new KitError(sentence, code);
}

let values;
try {
  ({ values } = parseArgs({ options: { out: { type: 'string' }, cache: { type: 'string' } } }));
} catch (error) {
  console.error(`gpu-kit: ${error.message.replace(/\.$/, '')}; the options are --out DIR and --cache DIR.`);
  process.exit(2);
}
const out = resolve(values.out ?? join(root, 'artifacts', 'gpu-kit'));
const cacheDir = resolve(values.cache ?? join(root, 'artifacts', '.cache', 'gpu-kit'));
const dawnSource = join(root, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node');
const has = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...options });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed: ${(result.stderr || result.error?.message || '').trim().split('\n').pop()}`);
  return result;
}

/** `source` compressed with xz into `target`, from the cache when the same file (by sha256) was compressed before. */
async function compressed(source, target, { strip = false } = {}) {
  const sum = await sha256(source);
  const cached = join(cacheDir, `${sum.slice(0, 16)}${strip ? '-stripped' : ''}.xz`);
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    const scratch = mkdtempSync(join(tmpdir(), 'corda-gpu-kit-'));
    try {
      let input = source;
      if (strip && has('strip')) {
        input = join(scratch, basename(source));
        run('strip', ['-o', input, source]);
      }
      run('sh', ['-c', 'xz -T1 -6 -c "$1" > "$2"', 'xz', input, join(scratch, 'out.xz')]);
      renameSync(join(scratch, 'out.xz'), cached);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  copyFileSync(cached, target);
  return { sha256: sum, bytes: statSync(source).size, cached: basename(cached) };
}

async function bundle(appDir) {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    // sharp (image decoding for projects) is imported by modules the check never calls into; its native addon
    // would not load from the bundle, so a stub stands in for it.
    resolve: { alias: [{ find: /^sharp$/, replacement: join(here, 'sharpStub.mjs') }] },
    ssr: { noExternal: true, target: 'node' },
    build: {
      ssr: join(root, 'src', 'cli', 'gpuCheckRun.ts'),
      outDir: appDir,
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      sourcemap: false,
      rolldownOptions: { output: { format: 'cjs', entryFileNames: 'gpu-check.cjs', codeSplitting: false } },
    },
  });
  const code = readFileSync(join(appDir, 'gpu-check.cjs'), 'utf8');
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  // Comment lines are left out: bundled libraries' doc comments show require() calls (protobufjs: `require("./compiled.js")`).
  const codeLines = code.split('\n').filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)).join('\n');
  const outside = [...codeLines.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]).filter((m) => !builtins.has(m));
  if (outside.length) fail(`the bundle still requires ${[...new Set(outside)].join(', ')} from outside it.`);
}

function copyInto(dir, files) {
  for (const [from, to] of files) {
    mkdirSync(join(dir, dirname(to)), { recursive: true });
    copyFileSync(from, join(dir, to));
  }
}

/** The libraries of DEBIAN_PACKAGES, by soname: downloaded with apt-get, else (offline) this machine's copies. */
function vulkanLibraries(libDir) {
  mkdirSync(libDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'corda-gpu-kit-deb-'));
  const origin = {};
  try {
    const download = spawnSync('apt-get', ['download', ...DEBIAN_PACKAGES], { cwd: scratch, encoding: 'utf8' });
    const debs = download.status === 0 ? readdirSync(scratch).filter((f) => f.endsWith('.deb')) : [];
    for (const deb of debs) run('dpkg-deb', ['-x', join(scratch, deb), join(scratch, 'x')]);
    const debianDir = join(scratch, 'x', 'usr', 'lib', 'x86_64-linux-gnu');
    const system = spawnSync('sh', ['-c', 'ldconfig -p 2>/dev/null || /sbin/ldconfig -p'], { encoding: 'utf8' }).stdout ?? '';
    for (const soname of SONAMES) {
      let from = join(debianDir, soname);
      origin[soname] = 'Debian package (apt-get download)';
      if (!existsSync(from)) {
        from = system.match(new RegExp(`\\s${soname.replace(/\./g, '\\.')} \\(libc6,x86-64\\) => (\\S+)`))?.[1] ?? '';
        origin[soname] = from ? `this machine (${from})` : null;
      }
      if (!from) {
        if (soname === 'libvulkan.so.1') fail('the Vulkan loader could not be downloaded (apt-get download libvulkan1) and this machine has none (apt-get install libvulkan1).');
        continue;
      }
      copyFileSync(realpathSync(from), join(libDir, soname));
    }
    return { packages: debs.map((d) => d.replace(/\.deb$/, '').replace(/%3a/g, ':')), origin };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function buildKit() {
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`the kit carries this machine's node and Dawn for Linux x86-64, so it is built there, not on ${process.platform}/${process.arch}.`);
  if (!has('xz')) fail('building the kit needs xz (apt-get install xz-utils).');
  if (!existsSync(dawnSource)) fail('the optional npm package webgpu (dawn.node for linux-x64) is not installed: run npm install where the npm registry is reachable.');
  const started = performance.now();
  mkdirSync(dirname(out), { recursive: true });
  const staging = mkdtempSync(join(dirname(out), `.${basename(out)}-`));
  try {
    const app = join(staging, 'app');
    await bundle(app);
    const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm');
    const wasmFiles = readdirSync(join(wasmDir, 'dist')).filter((f) => f.endsWith('.wasm'));
    copyInto(app, [
      [join(wasmDir, 'package.json'), 'node_modules/@tensorflow/tfjs-backend-wasm/package.json'],
      ...wasmFiles.map((f) => [join(wasmDir, 'dist', f), `node_modules/@tensorflow/tfjs-backend-wasm/dist/${f}`]),
      [join(root, 'node_modules', '@tensorflow', 'tfjs-backend-webgpu', 'package.json'), 'node_modules/@tensorflow/tfjs-backend-webgpu/package.json'],
      [join(root, 'node_modules', 'webgpu', 'package.json'), 'node_modules/webgpu/package.json'],
      [join(root, 'node_modules', 'webgpu', 'index.js'), 'node_modules/webgpu/index.js'],
      ...TWIN_SCRIPTS.map((f) => [join(root, 'scripts', f), `scripts/${f}`]),
    ]);
    mkdirSync(join(app, 'node_modules', 'webgpu', 'dist', 'linux-x64'), { recursive: true });
    // The engine requires tfjs-backend-webgpu by name at run time; the package's main file hands over the copy inside
    // the bundle (src/cli/gpuCheckRun.ts), so that its kernels land on the bundle's own tfjs-core.
    const webgpuMain = JSON.parse(readFileSync(join(root, 'node_modules', '@tensorflow', 'tfjs-backend-webgpu', 'package.json'), 'utf8')).main;
    const shim = join(app, 'node_modules', '@tensorflow', 'tfjs-backend-webgpu', webgpuMain);
    mkdirSync(dirname(shim), { recursive: true });
    writeFileSync(
      shim,
      "if (!globalThis.cordaKitTfjsWebGpu) throw new Error('tfjs-backend-webgpu is inside gpu-check.cjs: run that file');\nmodule.exports = globalThis.cordaKitTfjsWebGpu;\n",
    );
    const node = await compressed(process.execPath, join(staging, 'node.xz'), { strip: true });
    const dawn = await compressed(dawnSource, join(staging, 'dawn.node.xz'));
    const libs = vulkanLibraries(join(staging, 'lib'));
    copyFileSync(join(here, 'run.sh'), join(staging, 'run.sh'));
    chmodSync(join(staging, 'run.sh'), 0o755);
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown commit';
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    writeFileSync(join(staging, 'VERSION'), `CorDA workbench ${version} GPU check kit, ${commit}, built ${new Date().toISOString().slice(0, 16)}Z\n`);
    writeFileSync(
      join(staging, 'MANIFEST.json'),
      `${JSON.stringify({ node: { version: process.version, ...node }, dawn: { package: `webgpu ${JSON.parse(readFileSync(join(root, 'node_modules', 'webgpu', 'package.json'), 'utf8')).version}`, ...dawn }, libs }, null, 2)}\n`,
    );
    const bytes = folderBytes(staging);
    if (bytes > KIT_LIMIT_BYTES) fail(`the kit came to ${(bytes / 2 ** 20).toFixed(1)} MiB, over its ${KIT_LIMIT_BYTES / 2 ** 20} MiB limit.`);
    rmSync(out, { recursive: true, force: true });
    renameSync(staging, out);
    console.log(`gpu-kit: ${relative(process.cwd(), out) || '.'} written, ${(bytes / 2 ** 20).toFixed(1)} MiB, in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    console.log(`gpu-kit: copy the folder to the GPU machine and run there: sh ${basename(out)}/run.sh`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

try {
  await buildKit();
} catch (error) {
  if (!(error instanceof KitError)) throw error;
  console.error(`gpu-kit: ${error.message}`);
  process.exitCode = error.code;
}
