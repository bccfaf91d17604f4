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

  it("migrates a schema-5 region queue to schema 6 with its ids and states, and takes 'covered' and seconds after", () => {
    const file = join(dir, DB_FILE);
    const old = new Database(file);
    for (const m of MIGRATIONS.filter((m) => m.version <= 5)) old.exec(m.sql);
    old.pragma('user_version = 5');
    old.pragma(`application_id = ${APPLICATION_ID}`);
    old.prepare("INSERT INTO datasets (id, name, kind, role, root, layout, imported_at) VALUES (1, 'cs', 'cityscapes', 'target', '/data/cs', '{}', 'then')").run();
    old.prepare("INSERT INTO images (id, dataset_id, split, city, name, rgb_path, width, height) VALUES (1, 1, 'val', 'berlin', 'x', 'a.png', 8, 4)").run();
    old.prepare("INSERT INTO rounds (id, source_dataset_id, target_dataset_id, method, preset, config, status, created_at) VALUES (1, 1, 1, 'dacs', 'tiny', '{}', 'done', 'then')").run();
    const region = old.prepare('INSERT INTO regions (id, round_id, image_id, superpixel, x, y, width, height, pixels, score, state) VALUES (?, 1, 1, ?, 0, 0, 2, 2, 4, ?, ?)');
    region.run(7, 3, 0.5, 'done');
    region.run(9, 4, 0.25, 'open');
    expect(() => old.prepare("UPDATE regions SET state = 'covered' WHERE id = 9").run()).toThrow(/CHECK/);
    old.close();

    const db = openProjectDb(dir);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA);
    expect(db.prepare('SELECT id, superpixel, score, state, seconds FROM regions ORDER BY id').all()).toEqual([
      { id: 7, superpixel: 3, score: 0.5, state: 'done', seconds: null },
      { id: 9, superpixel: 4, score: 0.25, state: 'open', seconds: null },
    ]);
    db.prepare("UPDATE regions SET state = 'covered', seconds = 12.5 WHERE id = 9").run();
    expect(() => db.prepare("UPDATE regions SET state = 'lost' WHERE id = 9").run()).toThrow(/CHECK/);
    expect(() => db.prepare('UPDATE regions SET seconds = -1 WHERE id = 9').run()).toThrow(/CHECK/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'regions' AND name LIKE 'regions_%' ORDER BY name").all()).toEqual([
      { name: 'regions_by_image' },
      { name: 'regions_queue' },
    ]);
    // The rebuilt table still cascades from its round.
    db.prepare('DELETE FROM rounds WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) AS n FROM regions').get()).toEqual({ n: 0 });
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
