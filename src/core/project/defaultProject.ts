// The project `npm start` opens when the user names none: a folder in the user's data directory that, on
// first start, is created with a generated demo dataset (source and target) so a new user sees images at once.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEMO_DEFAULTS, generateDemoData } from '../datasets/demo/generate';
import { importDataset } from '../datasets/importDataset';
import { DB_FILE, openProjectDb } from '../store/db';

export const APP_DIR_NAME = 'corda-workbench';

/** Per-user data folder, as Electron's app.getPath('userData') would place it on each OS. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CORDA_HOME) return env.CORDA_HOME;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), APP_DIR_NAME);
}

export function defaultProjectDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userDataDir(env), 'projects', 'demo');
}

/** Creates the demo project at `dir` unless a project is already there. Returns whether it created one. */
export async function ensureDemoProject(dir: string, log: (line: string) => void = () => undefined): Promise<boolean> {
  if (existsSync(join(dir, DB_FILE))) return false;
  log(`Creating the demo project in ${dir} …`);
  const dataDir = join(dir, 'demo-data');
  const demo = await generateDemoData(dataDir, {
    ...DEMO_DEFAULTS,
    onProgress: (done, total) => {
      if (done === total || done % 10 === 0) log(`  generating demo images ${done}/${total}`);
    },
  });
  const db = openProjectDb(dir, { create: true });
  try {
    await importDataset(db, demo.gta5, { projectDir: dir, role: 'source' });
    await importDataset(db, demo.cityscapes, { projectDir: dir, role: 'target' });
  } finally {
    db.close();
  }
  log('  demo project ready.');
  return true;
}
