// Numbered schema migrations. Migration N brings a project from schema N-1 to N; never edit a released one,
// add the next number instead. PRAGMA user_version holds the schema number.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'datasets and images',
    sql: `
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE datasets (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('cityscapes', 'gta5', 'synthia')),
        role TEXT NOT NULL CHECK (role IN ('source', 'target')),
        root TEXT NOT NULL UNIQUE,
        layout TEXT NOT NULL,
        imported_at TEXT NOT NULL
      );
      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        city TEXT NOT NULL,
        name TEXT NOT NULL,
        rgb_path TEXT NOT NULL,
        label_path TEXT,
        depth_path TEXT,
        camera_path TEXT,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        UNIQUE (dataset_id, rgb_path)
      );
      CREATE INDEX images_by_dataset ON images(dataset_id, split, city);
    `,
  },
  {
    version: 2,
    description: 'import problems, missing-file flag, file stamps for the thumbnail cache',
    sql: `
      CREATE TABLE import_problems (
        id INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        file TEXT NOT NULL,
        error TEXT NOT NULL
      );
      CREATE INDEX import_problems_by_dataset ON import_problems(dataset_id);
      ALTER TABLE images ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE images ADD COLUMN rgb_stamp TEXT NOT NULL DEFAULT '';
    `,
  },
  {
    version: 3,
    description: 'adaptation rounds, checkpoints and per-image layers',
    sql: `
      CREATE TABLE rounds (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER REFERENCES rounds(id),
        source_dataset_id INTEGER NOT NULL REFERENCES datasets(id),
        target_dataset_id INTEGER NOT NULL REFERENCES datasets(id),
        method TEXT NOT NULL CHECK (method IN ('source-only', 'dacs', 'corda')),
        preset TEXT NOT NULL,
        config TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'predicting', 'done', 'failed', 'cancelled', 'interrupted')),
        backend TEXT,
        iteration INTEGER NOT NULL DEFAULT 0,
        timings TEXT,
        metrics TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
      );
      CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY,
        round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX checkpoints_by_round ON checkpoints(round_id, iteration);
      CREATE TABLE round_layers (
        round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        prediction BLOB NOT NULL,
        confidence BLOB NOT NULL,
        difficulty BLOB,
        depth_src BLOB,
        depth_tgt BLOB,
        difficulty_score REAL NOT NULL,
        PRIMARY KEY (round_id, image_id)
      );
      CREATE INDEX round_layers_by_score ON round_layers(round_id, difficulty_score DESC);
    `,
  },
  {
    version: 4,
    description: 'label corrections and their stroke history',
    sql: `
      CREATE TABLE corrections (
        image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        base_round_id INTEGER REFERENCES rounds(id) ON DELETE SET NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        labels BLOB NOT NULL,
        human BLOB NOT NULL,
        human_pixels INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 0,
        revision INTEGER NOT NULL DEFAULT 0,
        seconds_spent REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE correction_strokes (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES corrections(image_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        tool TEXT NOT NULL,
        class_id INTEGER,
        forward BLOB NOT NULL,
        backward BLOB NOT NULL,
        undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
        ms REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        UNIQUE (image_id, seq)
      );
    `,
  },
  {
    version: 5,
    description: 'second choices and superpixels per round layer, the region queue',
    sql: `
      ALTER TABLE round_layers ADD COLUMN second BLOB;
      ALTER TABLE round_layers ADD COLUMN superpixels BLOB;
      CREATE TABLE regions (
        id INTEGER PRIMARY KEY,
        round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        superpixel INTEGER NOT NULL,
        x INTEGER NOT NULL,
        y INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        pixels INTEGER NOT NULL,
        score REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'skipped')),
        UNIQUE (round_id, image_id, superpixel)
      );
      CREATE INDEX regions_queue ON regions(round_id, state, score DESC);
      CREATE INDEX regions_by_image ON regions(image_id);
    `,
  },
  {
    version: 6,
    description: "regions: the 'covered' state (mostly corrected already) and the seconds a person spent on each",
    // SQLite cannot change a CHECK constraint in place: the table is rebuilt with its rows and ids.
    sql: `
      CREATE TABLE regions_v6 (
        id INTEGER PRIMARY KEY,
        round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        superpixel INTEGER NOT NULL,
        x INTEGER NOT NULL,
        y INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        pixels INTEGER NOT NULL,
        score REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'skipped', 'covered')),
        seconds REAL CHECK (seconds IS NULL OR seconds >= 0),
        UNIQUE (round_id, image_id, superpixel)
      );
      INSERT INTO regions_v6 (id, round_id, image_id, superpixel, x, y, width, height, pixels, score, state)
        SELECT id, round_id, image_id, superpixel, x, y, width, height, pixels, score, state FROM regions;
      DROP TABLE regions;
      ALTER TABLE regions_v6 RENAME TO regions;
      CREATE INDEX regions_queue ON regions(round_id, state, score DESC);
      CREATE INDEX regions_by_image ON regions(image_id);
    `,
  },
  {
    version: 7,
    description: 'rounds: the learning curve (val mIoU and losses against iterations, a JSON array)',
    sql: `ALTER TABLE rounds ADD COLUMN curve TEXT;`,
  },
];

export const LATEST_SCHEMA = MIGRATIONS[MIGRATIONS.length - 1]!.version;
