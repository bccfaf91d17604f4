import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { APPLICATION_ID, DB_FILE, openProjectDb } from './db';
import { LATEST_SCHEMA, MIGRATIONS } from './migrations';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corda-db-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('project database', () => {
  it('creates a new project with WAL, foreign keys and the latest schema', () => {
    const db = openProjectDb(join(dir, 'p'), { create: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA);
    expect(db.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    db.close();
  });

  it('refuses a folder without a project unless asked to create one', () => {
    expect(() => openProjectDb(join(dir, 'nothing'))).toThrow(/No workbench project/);
  });

  it('migrates a project written by version 1 and keeps its rows', () => {
    const file = join(dir, DB_FILE);
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!.sql);
    old.pragma('user_version = 1');
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.prepare("INSERT INTO datasets (id, name, kind, role, root, layout, imported_at) VALUES (1, 'cs', 'cityscapes', 'target', '/data/cs', '{}', 'then')").run();
    old.prepare("INSERT INTO images (dataset_id, split, city, name, rgb_path, width, height) VALUES (1, 'val', 'berlin', 'x', 'a.png', 8, 4)").run();
    old.close();

    const db = openProjectDb(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA);
    expect(db.prepare('SELECT name, missing, rgb_stamp FROM images').get()).toEqual({ name: 'x', missing: 0, rgb_stamp: '' });
    expect(db.prepare('SELECT count(*) AS n FROM import_problems').get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a project from a newer version and leaves the file unchanged', () => {
    const file = join(dir, DB_FILE);
    const newer = new Database(file);
    newer.pragma(`application_id = ${APPLICATION_ID}`);
    newer.pragma(`user_version = ${LATEST_SCHEMA + 5}`);
    newer.exec('CREATE TABLE future (x)');
    newer.close();
    const before = hash(file);
    expect(() => openProjectDb(dir)).toThrow(UserError);
    expect(() => openProjectDb(dir)).toThrow(/newer version of the workbench/);
    expect(hash(file)).toBe(before);
  });

  it("refuses another program's SQLite database and leaves it unchanged", () => {
    const file = join(dir, DB_FILE);
    const foreign = new Database(file);
    foreign.exec('CREATE TABLE contacts (name TEXT)');
    foreign.close();
    const before = hash(file);
    expect(() => openProjectDb(dir)).toThrow(/another program/);
    expect(hash(file)).toBe(before);
  });

  it('refuses a file that is not SQLite at all', () => {
    writeFileSync(join(dir, DB_FILE), 'hello, I am a text file pretending to be a database');
    expect(() => openProjectDb(dir)).toThrow(/not an SQLite database/);
  });

  it('enforces foreign keys', () => {
    const db = openProjectDb(dir, { create: true });
    expect(() =>
      db.prepare("INSERT INTO images (dataset_id, split, city, name, rgb_path, width, height) VALUES (99, 'val', 'c', 'n', 'p', 1, 1)").run(),
    ).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
