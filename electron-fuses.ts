// Electron fuses for the packaged app: switches compiled into the Electron binary that no command line or
// environment can turn back. electron-builder 25 (pinned) has no `electronFuses` option (it came in 26), so an
// afterPack hook writes them with @electron/fuses (1.8, the last release for Node 20), before electron-builder signs
// the app.
import { FuseV1Options, FuseVersion, flipFuses } from '@electron/fuses';
import { join } from 'node:path';
import type { AfterPackContext } from 'electron-builder';

/**
 * The app's fuses: the binary cannot be run as plain Node (ELECTRON_RUN_AS_NODE), NODE_OPTIONS and --inspect
 * are ignored, and only the app's own app.asar is loaded, checked against the integrity hash electron-builder
 * embeds (macOS and Windows; Electron has no integrity check on Linux, where that fuse changes nothing).
 */
export const APP_FUSES = {
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
} as const;

/** Writes APP_FUSES into one Electron binary (both slices of a universal macOS one); returns how many wires. */
export function flipAppFuses(binary: string, platform: string): Promise<number> {
  // A changed macOS binary loses its signature; an ad-hoc one keeps an unsigned build launchable on Apple silicon
  // (electron-builder signs over it when an identity is configured).
  return flipFuses(binary, { version: FuseVersion.V1, resetAdHocDarwinSignature: platform === 'darwin' || platform === 'mas', ...APP_FUSES });
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
  for (const file of fuseBinaries(context as Parameters<typeof fuseBinaries>[0])) await flipAppFuses(file, context.electronPlatformName);
}
