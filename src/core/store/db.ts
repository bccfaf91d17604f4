// Opens a project's workbench.sqlite: checks that it is ours and not newer than this build, then migrates it.
// A foreign, newer or damaged file is refused before anything is written to it, with one sentence. A project the
// user cannot write (read-only folder or file) opens read-only: it can be listed and viewed, and a write attempt
// says that the project is read-only (storeErrorSentence).
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

const readOnlyDbs = new WeakSet<Db>();

/** Whether the project was opened read-only because its folder or database file cannot be written. */
export function isReadOnlyDb(db: Db): boolean {
  return readOnlyDbs.has(db);
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const sqliteCode = (error: unknown): string => String((error as { code?: unknown } | null)?.code ?? '');

/**
 * Runs `work`, again while SQLite answers SQLITE_BUSY, for up to `ms`. SQLite skips the busy handler in a few
 * states (another process is creating the file, switching it to WAL or recovering its WAL), and two first opens
 * of one new project meet exactly those.
 */
function retryBusy<T>(work: () => T, ms = 15000): T {
  const until = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      return work();
    } catch (error) {
      if (!sqliteCode(error).startsWith('SQLITE_BUSY') || Date.now() > until) throw error;
      Atomics.wait(pause, 0, 0, Math.min(10 * 2 ** attempt, 200));
    }
  }
}

function damaged(file: string, why: string): UserError {
  return new UserError(`${file} is damaged (${why}), so this project cannot be opened; restore the file from a backup or pick another project folder.`);
}

/**
 * One sentence for an SQLite failure a person can act on (read-only project, damaged or locked database, full
 * disk), or null for anything else. `action`: what was being done, e.g. "save this stroke".
 */
export function storeErrorSentence(error: unknown, projectDir: string, action = 'make this change'): UserError | null {
  const code = sqliteCode(error);
  const file = join(projectDir, DB_FILE);
  if (code.startsWith('SQLITE_READONLY')) {
    return new UserError(`The project in ${projectDir} is read-only, so the workbench cannot ${action}; make the folder and its ${DB_FILE} writable, or copy the project somewhere you can write.`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return damaged(file, 'SQLite reports: ' + (error as Error).message);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new UserError(`${file} is held locked by another program for too long, so the workbench cannot ${action}; close the other program (or wait for its job) and try again.`);
  }
  if (code === 'SQLITE_FULL') return new UserError(`The disk holding ${projectDir} is full, so the workbench cannot ${action}; free some space and try again.`);
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new UserError(`${file} cannot be read or written (${(error as Error).message}), so the workbench cannot ${action}; check the disk and the file's permissions.`);
  }
  return null;
}

/**
 * A read-only connection. SQLite cannot open a WAL database read-only when its folder is read-only and the -shm
 * file is absent; then the file is read into memory (it holds everything: without a -wal file nothing is pending)
 * and writes are refused with query_only, as a read-only file refuses them.
 */
function openReadOnly(file: string): Db {
  let db: Db | undefined;
  try {
    db = new Database(file, { ...betterSqliteOptions(), readonly: true, fileMustExist: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db?.close();
    const code = sqliteCode(error);
    if (!code.startsWith('SQLITE_READONLY') && !code.startsWith('SQLITE_CANTOPEN') && !code.startsWith('SQLITE_IOERR')) throw error;
  }
  const bytes = readFileSync(file);
  // Bytes 18 and 19: the file format versions, 2 for WAL; 1 lets the in-memory copy open as a rollback journal.
  if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
  const copy = new Database(bytes, betterSqliteOptions());
  copy.pragma('query_only = ON');
  return copy;
}

interface FileIdentity {
  applicationId: number;
  schema: number;
  tables: number;
}

function inspect(file: string): FileIdentity {
  let db: Db;
  try {
    db = openReadOnly(file);
  } catch (error) {
    const code = sqliteCode(error);
    if (code.startsWith('SQLITE_BUSY')) throw error; // retried by the caller
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') throw damaged(file, 'SQLite cannot read it');
    throw storeErrorSentence(error, dirname(file), 'open this project') ?? error;
  }
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

/** Pages the header says the file holds, against its size: a file cut short is refused before SQLite reads it. */
function checkLength(file: string, size: number): void {
  const fd = openSync(file, 'r');
  let header: Buffer;
  try {
    header = Buffer.alloc(100);
    header = header.subarray(0, readSync(fd, header, 0, 100, 0));
  } finally {
    closeSync(fd);
  }
  if (header.length < 100) throw damaged(file, `it ends after ${size} bytes, inside the SQLite header`);
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw damaged(file, 'its SQLite header is garbled');
  if (size % pageSize !== 0) throw damaged(file, `it is ${size} bytes long, not a whole number of ${pageSize}-byte pages: it was cut short`);
  // The in-header page count is valid when its "version valid for" number matches the change counter.
  const pages = header.readUInt32BE(28);
  const valid = header.readUInt32BE(92) === header.readUInt32BE(24);
  // Pages may still sit in the WAL, or another process may be mid-commit (its journal exists): no verdict then.
  const wal = `${file}-wal`;
  const inFlight = (existsSync(wal) && statSync(wal).size > 0) || existsSync(`${file}-journal`);
  if (valid && !inFlight && pages * pageSize > size) {
    throw damaged(file, `it holds ${size / pageSize} of its ${pages} pages: it was cut short`);
  }
}

/** Refuses files that are not workbench projects, damaged ones and ones a newer version wrote; returns the schema found. */
function checkExisting(file: string): number {
  const stat = statSync(file);
  if (stat.isDirectory()) throw new UserError(`${file} is a folder, not a project database; move it away or pick another project folder.`);
  if (!stat.isFile()) throw new UserError(`${file} is not a regular file, so it cannot be a project database; move it away or pick another project folder.`);
  let magic: string;
  try {
    magic = stat.size > 0 ? readMagic(file) : '';
  } catch (error) {
    throw new UserError(`${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check its permissions.`);
  }
  if (stat.size > 0 && magic !== SQLITE_MAGIC) {
    throw new UserError(`${file} is not a CorDA workbench project: it is not an SQLite database. Choose another project folder.`);
  }
  if (stat.size === 0) return 0;
  checkLength(file, stat.size);
  let id: FileIdentity;
  try {
    id = retryBusy(() => inspect(file));
  } catch (error) {
    throw storeErrorSentence(error, dirname(file), 'open this project') ?? error;
  }
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
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new UserError(`Cannot create a project in ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pick a folder you can write to.`);
    }
    if (!writable(dir)) throw new UserError(`Cannot create a project in ${dir}: the folder is read-only; pick a folder you can write to.`);
  } else {
    const schema = checkExisting(file);
    if (!writable(file) || !writable(dir)) {
      if (schema < LATEST_SCHEMA) {
        throw new UserError(`The project in ${dir} was written by an older version and needs upgrading, but it is read-only; make it writable once so that it can be upgraded.`);
      }
      const db = openReadOnly(file);
      db.pragma('foreign_keys = ON');
      readOnlyDbs.add(db);
      return db;
    }
  }

  // A generous busy timeout: another process may be migrating or importing into the same project.
  const db = new Database(file, { ...betterSqliteOptions(), timeout: 15000 });
  try {
    db.pragma('busy_timeout = 15000');
    retryBusy(() => db.pragma('journal_mode = WAL'));
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    retryBusy(() => migrate(db));
  } catch (error) {
    db.close();
    throw storeErrorSentence(error, dir, 'open this project') ?? error;
  }
  return db;
}

/**
 * Applies every migration above the file's schema, all in one transaction. Two processes may open a new project
 * at once: the version is read again under an immediate write lock, so only the first one migrates.
 */
export function migrate(db: Db): void {
  if (MIGRATIONS.every((m) => m.version <= schemaVersion(db))) return;
  db.transaction(() => {
    const current = schemaVersion(db);
    const pending = MIGRATIONS.filter((m) => m.version > current);
    if (pending.length === 0) return;
    for (const m of pending) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(
      'migrated_at',
      new Date().toISOString(),
    );
  }).immediate();
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
