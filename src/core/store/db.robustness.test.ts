// Issue 11, items 7 and 9: two first opens racing on one new project, read-only projects and damaged files.
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../shared/api';
import { createService } from '../service';
import { DB_FILE, isReadOnlyDb, migrate, openProjectDb } from './db';
import { LATEST_SCHEMA } from './migrations';

// Root may write anything, so a read-only project is simulated where the workbench asks: access(W_OK).
const readOnlyPaths = new Set<string>();
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const accessSync = (path: string, mode?: number) => {
    if (mode !== undefined && mode & fs.constants.W_OK && readOnlyPaths.has(String(path))) {
      throw Object.assign(new Error(`EACCES: permission denied, access '${path}'`), { code: 'EACCES' });
    }
    return fs.accessSync(path, mode);
  };
  return { ...fs, accessSync, default: { ...fs, accessSync } };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corda-db-rob-'));
  readOnlyPaths.clear();
});
afterEach(() => {
  readOnlyPaths.clear();
  rmSync(dir, { recursive: true, force: true });
});

describe('two first opens of one new project at once', () => {
  it('migrates once: the second re-reads the version under the write lock', () => {
    const file = join(dir, DB_FILE);
    const first = new Database(file);
    const second = new Database(file);
    first.pragma('journal_mode = WAL');
    // The other process migrates right after this one read the version (the race of issue 11, item 7).
    const pragma = first.pragma.bind(first);
    let raced = false;
    first.pragma = ((source: string, options?: Database.PragmaOptions) => {
      const result = pragma(source, options);
      if (!raced && source === 'user_version') {
        raced = true;
        migrate(second);
      }
      return result;
    }) as typeof first.pragma;
    expect(() => migrate(first)).not.toThrow();
    expect(raced).toBe(true);
    expect(pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA);
    first.close();
    second.close();
  });
});

describe('a read-only project', () => {
  function makeProject(): void {
    const db = openProjectDb(dir, { create: true });
    db.prepare("INSERT INTO datasets (id, name, kind, role, root, layout, imported_at) VALUES (1, 'cs', 'cityscapes', 'target', '/data/cs', '{}', 'then')").run();
    db.close();
  }

  it('opens read-only, lists, and refuses a write with one sentence', async () => {
    makeProject();
    readOnlyPaths.add(dir).add(join(dir, DB_FILE));
    chmodSync(join(dir, DB_FILE), 0o444);
    const service = createService({ projectDir: dir, transport: 'cli' });
    try {
      expect(isReadOnlyDb(service.db)).toBe(true);
      expect((await service.call('listDatasets', {})).map((d) => d.name)).toEqual(['cs']);
      await expect(service.call('importDataset', { folder: dir })).rejects.toThrow(UserError);
      await expect(service.call('importDataset', { folder: dir })).rejects.toThrow(/is read-only, so the workbench cannot import a dataset into it/);
      // A write that slips past the guard is refused by SQLite and explained the same way.
      expect(() => service.db.prepare("UPDATE datasets SET name = 'x'").run()).toThrow(/readonly/);
    } finally {
      service.close();
    }
  });

  it('leaves the database file as it was (the real read-only folder is tried by scripts/robustness/store.mjs)', () => {
    makeProject();
    const file = join(dir, DB_FILE);
    readOnlyPaths.add(dir).add(file);
    const before = readFileSync(file);
    const db = openProjectDb(dir);
    expect(isReadOnlyDb(db)).toBe(true);
    expect(db.prepare('SELECT name FROM datasets').all()).toEqual([{ name: 'cs' }]);
    expect(() => db.prepare("UPDATE datasets SET name = 'x'").run()).toThrow();
    db.close();
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});

describe('damaged project files get one sentence', () => {
  const opening = () => {
    try {
      openProjectDb(dir).close();
      return null;
    } catch (error) {
      return error;
    }
  };

  it('a folder named like the database', () => {
    mkdirSync(join(dir, DB_FILE));
    const error = opening();
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/is a folder, not a project database/);
  });

  it('garbage after the SQLite header', () => {
    openProjectDb(dir, { create: true }).close();
    const file = join(dir, DB_FILE);
    const bytes = readFileSync(file);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(bytes.length - 16, 0xa5), 0, bytes.length - 16, 16);
    closeSync(fd);
    const error = opening();
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/is damaged/);
  });

  it('a truncated file', () => {
    openProjectDb(dir, { create: true }).close();
    const file = join(dir, DB_FILE);
    const size = readFileSync(file).length;
    for (const cut of [50, 4096 + 100, size - 4096]) {
      truncateSync(file, cut);
      const error = opening();
      expect(error, `cut at ${cut}`).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/is damaged/);
    }
  });

  it('a file of zeros the size of a database', () => {
    writeFileSync(join(dir, DB_FILE), Buffer.alloc(8192));
    expect(opening()).toBeInstanceOf(UserError);
  });
});
