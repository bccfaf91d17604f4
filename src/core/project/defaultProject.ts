// The project `npm start` opens when the user names none: a folder in the user's data directory that, on
// first start, is created with a generated demo dataset (source and target) so a new user sees images at once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DEFAULTS, generateDemoData } from '../datasets/demo/generate';
import { importDataset } from '../datasets/importDataset';
import { DB_FILE, openProjectDb } from '../store/db';
import { userDataDir } from '../userDataDir';

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
