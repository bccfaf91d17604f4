// Electron fuses for the packaged app: switches compiled into the Electron binary that no command line or
// environment can turn back. electron-builder 25 (pinned) has no `electronFuses` option (it came in 26), so an
// afterPack hook writes them, before electron-builder signs the app.
//
// The fuse wire is a sentinel string followed by a version byte, a length byte and one byte per fuse: '0' off,
// '1' on ('r': removed from this Electron). The order of the fuses is fixed by Electron (version 1 of the wire).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AfterPackContext } from 'electron-builder';

const SENTINEL = Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX', 'latin1');
const WIRE_VERSION = 1;

/** Fuse positions on the version-1 wire. */
export const FUSE_INDEX = {
  runAsNode: 0,
  enableCookieEncryption: 1,
  enableNodeOptionsEnvironmentVariable: 2,
  enableNodeCliInspectArguments: 3,
  enableEmbeddedAsarIntegrityValidation: 4,
  onlyLoadAppFromAsar: 5,
  loadBrowserProcessSpecificV8Snapshot: 6,
  grantFileProtocolExtraPrivileges: 7,
} as const;
export type FuseName = keyof typeof FUSE_INDEX;

/**
 * The app's fuses: the binary cannot be run as plain Node (ELECTRON_RUN_AS_NODE), NODE_OPTIONS and --inspect
 * are ignored, and only the app's own app.asar is loaded, checked against the integrity hash electron-builder
 * embeds (macOS and Windows; Electron has no integrity check on Linux, where that fuse changes nothing).
 */
export const APP_FUSES: Partial<Record<FuseName, boolean>> = {
  runAsNode: false,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
};

/** Sets `fuses` on every fuse wire in `binary` (a universal macOS binary has two); returns how many wires. */
export function flipFuses(binary: Buffer, fuses: Partial<Record<FuseName, boolean>>, what = 'the Electron binary'): number {
  let wires = 0;
  for (let at = binary.indexOf(SENTINEL); at >= 0; at = binary.indexOf(SENTINEL, at + SENTINEL.length)) {
    const version = binary[at + SENTINEL.length];
    const length = binary[at + SENTINEL.length + 1] ?? 0;
    const start = at + SENTINEL.length + 2;
    if (version !== WIRE_VERSION) throw new Error(`${what} has fuse wire version ${version}, not ${WIRE_VERSION}: check the fuse order before packaging.`);
    for (const [name, on] of Object.entries(fuses) as [FuseName, boolean][]) {
      const index = FUSE_INDEX[name];
      if (index >= length || binary[start + index] === 0x72) throw new Error(`${what} has no fuse ${name}: this Electron removed it or predates it.`);
      const current = binary[start + index];
      if (current !== 0x30 && current !== 0x31) throw new Error(`${what} has an unreadable fuse wire (byte ${current} at fuse ${name}).`);
      binary[start + index] = on ? 0x31 : 0x30;
    }
    wires++;
  }
  if (wires === 0) throw new Error(`${what} has no fuse wire: it is not an Electron binary, or one too old for fuses.`);
  return wires;
}

/** The binaries that carry the fuse wire in a packaged app: on macOS the framework, elsewhere the executable. */
export function fuseBinaries(context: Pick<AfterPackContext, 'appOutDir' | 'electronPlatformName'> & { packager: { appInfo: { productFilename: string }; executableName?: string } }): string[] {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') {
    return [join(appOutDir, `${packager.appInfo.productFilename}.app`, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework')];
  }
  const name = packager.executableName ?? packager.appInfo.productFilename;
  return [join(appOutDir, electronPlatformName === 'win32' ? `${name}.exe` : name)];
}

/** electron-builder's afterPack hook: writes APP_FUSES into the packaged Electron. */
export async function afterPackFlipFuses(context: AfterPackContext): Promise<void> {
  for (const file of fuseBinaries(context as Parameters<typeof fuseBinaries>[0])) {
    const binary = readFileSync(file);
    flipFuses(binary, APP_FUSES, file);
    writeFileSync(file, binary);
    // A changed macOS binary loses its signature; an ad-hoc one keeps an unsigned build launchable on Apple
    // silicon (electron-builder signs over it when an identity is configured).
    if (context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas') {
      execFileSync('codesign', ['--sign', '-', '--force', '--preserve-metadata=entitlements,requirements,flags,runtime', file]);
    }
  }
}
