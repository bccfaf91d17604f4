// Opens a project's workbench.sqlite: checks that it is ours and not newer than this build, then migrates it.
// A foreign or newer file is refused before anything is written to it.
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../../shared/api';
import { LATEST_SCHEMA, MIGRATIONS } from './migrations';
import { betterSqliteOptions } from './nativeBinding';

export type Db = Database.Database;

export const DB_FILE = 'workbench.sqlite';
/** PRAGMA application_id of every workbench project ("CrDA"). */
export const APPLICATION_ID = 0x43724441;

const SQLITE_MAGIC = 'SQLite format 3\0';

function readMagic(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

interface FileIdentity {
  applicationId: number;
  schema: number;
  tables: number;
}

function inspect(file: string): FileIdentity {
  const db = new Database(file, { ...betterSqliteOptions(), readonly: true, fileMustExist: true });
  try {
    return {
      applicationId: db.pragma('application_id', { simple: true }) as number,
      schema: db.pragma('user_version', { simple: true }) as number,
      tables: (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

/** Refuses files that are not workbench projects or that a newer version wrote; returns the schema found. */
function checkExisting(file: string): number {
  if (statSync(file).size > 0 && readMagic(file) !== SQLITE_MAGIC) {
    throw new UserError(`${file} is not a CorDA workbench project: it is not an SQLite database. Choose another project folder.`);
  }
  if (statSync(file).size === 0) return 0;
  const id = inspect(file);
  const isEmptyDb = id.applicationId === 0 && id.schema === 0 && id.tables === 0;
  if (!isEmptyDb && id.applicationId !== APPLICATION_ID) {
    throw new UserError(`${file} is an SQLite database of another program, not a CorDA workbench project. Choose another project folder.`);
  }
  if (id.schema > LATEST_SCHEMA) {
    throw new UserError(
      `${file} was written by a newer version of the workbench (schema ${id.schema}; this version knows up to ${LATEST_SCHEMA}). Update the workbench to open it.`,
    );
  }
  return id.schema;
}

export interface OpenOptions {
  /** Create the folder and the database when they do not exist. */
  create?: boolean;
}

export function openProjectDb(projectDir: string, options: OpenOptions = {}): Db {
  const dir = resolve(projectDir);
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) {
    if (!options.create) {
      throw new UserError(`No workbench project in ${dir}: ${DB_FILE} is missing. Create one with \`corda init ${dir}\` or pick another folder.`);
    }
    if (existsSync(dir) && !statSync(dir).isDirectory()) {
      throw new UserError(`${dir} is a file, not a folder: a project needs a folder of its own.`);
    }
    mkdirSync(dir, { recursive: true });
  } else {
    checkExisting(file);
  }

  const db = new Database(file, betterSqliteOptions());
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Applies every migration above the file's schema, all in one transaction. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const pending = MIGRATIONS.filter((m) => m.version > current);
  if (pending.length === 0) return;
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      'migrated_at',
      new Date().toISOString(),
    );
  })();
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
