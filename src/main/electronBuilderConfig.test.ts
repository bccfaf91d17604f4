// The installer config (electron-builder.config.ts) against the real files: what must leave the asar archive
// does, the built app is packaged, and better-sqlite3's Electron build lands where the package looks for it.
// tsc checks the config's type (tsconfig.node.json includes it); building installers needs Electron downloads.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import config, { ASAR_UNPACK, ELECTRON_VERSION } from '../../electron-builder.config';
import { FuseV1Options } from '@electron/fuses';
import { APP_FUSES, afterPackFlipFuses, flipAppFuses, fuseBinaries } from '../../electron-fuses';
import { ELECTRON_BINDING_RELATIVE } from '../core/store/nativeBinding';

const root = join(__dirname, '..', '..');
// The same minimatch electron-builder matches its patterns with.
const builderRequire = createRequire(require.resolve('app-builder-lib/package.json'));
const { minimatch } = builderRequire('minimatch') as { minimatch: (path: string, pattern: string, options: { dot: boolean }) => boolean };
const matches = (path: string, pattern: string) => minimatch(path, pattern.replaceAll('${platform}', process.platform).replaceAll('${arch}', process.arch), { dot: true });

const patterns = (config.files ?? []) as (string | { from: string; to: string; filter: string[] })[];
const globs = patterns.filter((p): p is string => typeof p === 'string');
/** Packaged: a production dependency's file (electron-builder adds those) or one a pattern takes, and no "!" pattern drops it. */
const packaged = (path: string) =>
  (path.startsWith('node_modules/') || globs.some((g) => !g.startsWith('!') && matches(path, g))) &&
  !globs.some((g) => g.startsWith('!') && matches(path, g.slice(1)));
const unpacked = (path: string) => ASAR_UNPACK.some((g) => matches(path, g));

describe('electron-builder config', () => {
  it('builds the named installers of the app against the Electron that npm installs', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; optionalDependencies: { electron: string }; scripts: Record<string, string> };
    expect(config).toMatchObject({ productName: 'CorDA Workbench', appId: expect.any(String), asar: true, npmRebuild: false });
    expect(ELECTRON_VERSION).toBe(pkg.optionalDependencies.electron);
    expect(config.electronVersion).toBe(ELECTRON_VERSION);
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(pkg.scripts.dist).toBe('node scripts/dist.mjs');
    expect(packaged(pkg.main)).toBe(true);
    // tsc checks the config only while tsconfig.node.json lists it.
    expect(readFileSync(join(root, 'tsconfig.node.json'), 'utf8')).toContain('"electron-builder.config.ts"');
  });

  it('packages electron-vite\'s main (workers included), preload and renderer output and the window icon', () => {
    for (const path of [
      'out/main/index.js', 'out/main/roundWorker.js', 'out/main/trainReplica.js', 'out/main/labelDecodeWorker.js', 'out/main/cli.js', 'out/main/chunks/round-abc.js',
      'out/preload/index.js', 'out/renderer/index.html', 'out/renderer/assets/index-abc.js', 'out/renderer/assets/index-abc.css',
      'resources/icon.png',
    ]) {
      expect(packaged(path), path).toBe(true);
    }
    expect(packaged('src/main/index.ts')).toBe(false);
    expect(packaged('node_modules/electron/dist/electron')).toBe(false);
  });

  it('unpacks every tfjs wasm binary from the asar archive', () => {
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    const wasm = readdirSync(dist).filter((f) => f.endsWith('.wasm'));
    expect(wasm).toContain('tfjs-backend-wasm-simd.wasm');
    for (const file of wasm) {
      const path = `node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`;
      expect(unpacked(path), path).toBe(true);
      expect(packaged(path), path).toBe(true);
    }
  });

  it('ships the Electron build of better-sqlite3 unpacked, in place of the plain-Node one', () => {
    // The .node file npm built (for Node) sits where the Electron build goes.
    const release = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release');
    expect(readdirSync(release)).toContain('better_sqlite3.node');
    const target = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    expect(unpacked(target)).toBe(true);
    expect(packaged(target)).toBe(false);
    const copy = patterns.find((p) => typeof p !== 'string')!;
    expect(copy).toEqual({ from: 'native/electron', to: 'node_modules/better-sqlite3/build/Release', filter: ['better_sqlite3.node'] });
    // postinstall writes the Electron build to ELECTRON_BINDING_RELATIVE; electron-builder matches a copied file by its source.
    expect(join(copy.from, copy.filter[0]!)).toBe(ELECTRON_BINDING_RELATIVE);
    expect(unpacked(ELECTRON_BINDING_RELATIVE.split('\\').join('/'))).toBe(true);
    expect(readFileSync(join(root, 'scripts', 'postinstall.mjs'), 'utf8')).toContain("join(root, 'native', 'electron', 'better_sqlite3.node')");
  });

  it('unpacks sharp with libvips and keeps dawn.node for this OS only', () => {
    const sharpAddon = readdirSync(join(root, 'node_modules', '@img'));
    expect(sharpAddon.some((d) => d.startsWith('sharp-'))).toBe(true);
    expect(unpacked('node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8.17.3')).toBe(true);
    expect(unpacked('node_modules/sharp/lib/index.js')).toBe(true);
    const other = process.platform === 'linux' ? 'win32' : 'linux';
    expect(packaged(`node_modules/webgpu/dist/${process.platform}-x64/dawn.node`)).toBe(true);
    expect(packaged(`node_modules/webgpu/dist/${other}-x64/dawn.node`)).toBe(false);
  });

  it('ships ONNX Runtime for this OS and architecture only, its addon and library unpacked', () => {
    const bin = join(dirname(require.resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6');
    const here = `${process.platform}/${process.arch}`;
    const builds = readdirSync(bin).flatMap((os) => readdirSync(join(bin, os)).map((arch) => `${os}/${arch}`));
    expect(builds).toContain(here);
    for (const build of builds) {
      for (const file of readdirSync(join(bin, build))) {
        const path = `node_modules/onnxruntime-node/bin/napi-v6/${build}/${file}`;
        expect(packaged(path), path).toBe(build === here);
        if (build === here) expect(unpacked(path), path).toBe(true);
      }
    }
    expect(packaged('node_modules/onnxruntime-node/dist/index.js')).toBe(true);
  });

  it('writes the fuses after packing: no RunAsNode, NODE_OPTIONS or inspect arguments; app.asar only, integrity-checked', async () => {
    expect(config.afterPack).toBe(afterPackFlipFuses);
    expect(APP_FUSES).toEqual({
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    });
    // A stand-in binary: bytes, the wire (sentinel, version 1, eight fuses in Electron's default state), bytes.
    const wire = (fuses: string) => Buffer.concat([Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX', 'latin1'), Buffer.from([1, fuses.length]), Buffer.from(fuses, 'latin1')]);
    const dir = mkdtempSync(join(tmpdir(), 'corda-fuses-'));
    try {
      const file = join(dir, 'corda-workbench');
      writeFileSync(file, Buffer.concat([Buffer.alloc(100, 7), wire('11110010'), Buffer.alloc(50, 9), wire('11110010')]));
      expect(await flipAppFuses(file, 'linux')).toBe(2);
      const binary = readFileSync(file);
      const states = (at: number) => binary.subarray(at, at + 8).toString('latin1');
      expect(states(100 + 34)).toBe('01001110');
      expect(states(100 + 42 + 50 + 34)).toBe('01001110');
      expect(binary.subarray(0, 100).every((b) => b === 7)).toBe(true);
      // Anything unexpected stops the packaging instead of shipping an app without its fuses.
      writeFileSync(file, Buffer.alloc(64));
      await expect(flipAppFuses(file, 'linux')).rejects.toThrow(/Could not find sentinel/);
      const v2 = wire('11110010');
      v2[32] = 2;
      writeFileSync(file, v2);
      await expect(flipAppFuses(file, 'linux')).rejects.toThrow(/does not match/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the binary that carries the fuses on each platform', () => {
    const packager = { appInfo: { productFilename: 'corda-workbench' }, executableName: 'corda-workbench' };
    expect(fuseBinaries({ appOutDir: '/o', electronPlatformName: 'linux', packager })).toEqual([join('/o', 'corda-workbench')]);
    expect(fuseBinaries({ appOutDir: '/o', electronPlatformName: 'win32', packager: { appInfo: packager.appInfo } })).toEqual([join('/o', 'corda-workbench.exe')]);
    expect(fuseBinaries({ appOutDir: '/o', electronPlatformName: 'darwin', packager })).toEqual([
      join('/o', 'corda-workbench.app', 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework'),
    ]);
  });
});
