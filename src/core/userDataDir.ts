// The per-user data folder (demo project, downloaded weights), below everything that keeps files there.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'corda-workbench';

/** Per-user data folder, as Electron's app.getPath('userData') would place it on each OS. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CORDA_HOME) return env.CORDA_HOME;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), APP_DIR_NAME);
}
