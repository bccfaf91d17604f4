// Robustness cases for the store and the CLI (issue 11, items 6-10): hostile files in datasets, files changed
// after import, concurrent writers, damaged and read-only projects, long names, a project inside its dataset,
// and kill -9 at random moments of a stroke save, an import, a round and an export. Run by run.mjs.
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import {
  chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, truncateSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'));
const { encode } = require('fast-png');

// ---------------------------------------------------------------------------------------------------- helpers

const mkfifo = (path) => {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo ${path} failed: ${r.stderr}`);
};

const png = (width, height, { channels = 3, depth = 8, fill = 90 } = {}) => {
  const data = depth === 16 ? new Uint16Array(width * height * channels).fill(fill * 257) : new Uint8Array(width * height * channels).fill(fill);
  return Buffer.from(encode({ width, height, channels, depth, data }));
};

/** A palette PNG built by hand: IHDR colour type 3, PLTE of two colours, one IDAT, IEND. */
function palettePng(width, height) {
  const zlib = require('node:zlib');
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = (x + y) % 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from([128, 64, 128, 70, 70, 70])),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG whose header declares `width` x `height` but whose data is a few bytes (a decompression bomb's shape). */
function hugeDeclaredPng(width, height) {
  const small = palettePng(4, 4);
  const out = Buffer.from(small);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  return out;
}

const firstFile = (dir) => readdirSync(dir).filter((f) => f.endsWith('.png')).sort()[0];

/** Imports `dataset` into a new project; returns the parsed JSON result. */
async function importJson(ctx, dataset, project, opts = {}) {
  const r = await ctx.cli(['import', dataset, '--project', project, '--json'], { timeoutMs: 30_000, ...opts });
  if (r.status !== 0) throw new Error(`the import failed: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout);
}

/** A GTA5 copy with one hostile entry: the import must finish, list it as a problem and import the rest. */
function hostileImage(name, make, problem, { where = 'images', labelsToo = false } = {}) {
  return {
    name,
    group: 'import: hostile files',
    run: async (ctx) => {
      const data = await ctx.copyDemo('gta5');
      const before = readdirSync(join(data, 'images')).length;
      const file = where === 'labels' ? firstFile(join(data, 'labels')) : '99999.png';
      if (where === 'labels') rmSync(join(data, 'labels', file));
      await make(join(data, where, file), data);
      if (labelsToo) writeFileSync(join(data, 'labels', file), png(64, 32, { channels: 1 }));
      const result = await importJson(ctx, data, join(ctx.tmp(), 'p'));
      const listed = result.problems.find((p) => p.file === `${where}/${file}`);
      if (problem === null) {
        if (listed) throw new Error(`${where}/${file} was refused: ${listed.error}`);
        const expected = where === 'labels' ? before : before + 1;
        if (result.counts.train !== expected) throw new Error(`expected ${expected} images imported, got ${result.counts.train}.`);
        if (where === 'labels' && result.withLabels !== before) throw new Error(`expected ${before} images with labels, got ${result.withLabels}.`);
      } else {
        if (!listed) throw new Error(`${where}/${file} is not listed as a problem (problems: ${JSON.stringify(result.problems)}).`);
        if (!problem.test(listed.error)) throw new Error(`the problem line for ${where}/${file} does not say why: "${listed.error}".`);
        const expected = before;
        if (result.counts.train !== expected) throw new Error(`expected the other ${expected} images imported, got ${result.counts.train}.`);
      }
    },
  };
}

/** Runs `corda adapt` briefly; success or one sentence are both fine, a crash or an internal error is not. */
async function briefRound(ctx, project, opts = {}, extra = []) {
  return ctx.cli(['adapt', '--project', project, '--iters', '2', '--crop', '64x32', '--working-width', '64', '--eval-every', '0', '--json', ...extra], {
    timeoutMs: 90_000,
    ...opts,
  });
}

function expectRefusalOrSuccess(ctx, r) {
  if (r.status !== 0) ctx.expectSentence(r);
}

const targetImage = (ctx, project, split = 'train') => {
  const db = ctx.db(project);
  try {
    return db
      .prepare("SELECT i.id, i.rgb_path AS rgbPath, i.label_path AS labelPath, d.root FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE d.kind = 'cityscapes' AND i.split = ? ORDER BY i.id LIMIT 1")
      .get(split);
  } finally {
    db.close();
  }
};

/** A delta of one run of `length` pixels from `start`, all `classId`, human-set, as the contract's base64. */
function strokeDelta(start, length, classId) {
  const out = Buffer.alloc(8 + 8 + length * 2);
  out.set([0x4c, 0x44, 0x01], 0);
  out.writeUInt32LE(1, 4);
  out.writeUInt32LE(start, 8);
  out.writeUInt32LE(length, 12);
  out.fill(classId, 16, 16 + length);
  out.fill(1, 16 + length, 16 + 2 * length);
  return out.toString('base64');
}

/** A WebSocket to a server with request/response by id. */
async function socket(server) {
  const WebSocket = require('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
  const pending = new Map();
  let nextId = 1;
  ws.on('message', (raw) => {
    let msg;
    try {
      msg = JSON.parse(String(raw));
    } catch {
      return;
    }
    const p = pending.get(msg.id);
    if (p) {
      pending.delete(msg.id);
      p(msg);
    }
  });
  // Requests still waiting when the socket closes (the server was killed) resolve as unanswered.
  const closed = new Promise((resolve) =>
    ws.on('close', () => {
      for (const [id, answer] of pending) answer({ id, ok: false, unanswered: true });
      pending.clear();
      resolve();
    }),
  );
  ws.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    request: (method, input) =>
      new Promise((resolve) => {
        const id = nextId++;
        if (ws.readyState !== WebSocket.OPEN) return resolve({ id, ok: false, unanswered: true });
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, input }));
      }),
    closed,
    close: () => ws.terminate(),
  };
}

function correctionRow(ctx, project, imageId) {
  const db = ctx.db(project);
  try {
    const row = db.prepare('SELECT revision FROM corrections WHERE image_id = ?').get(imageId);
    const strokes = db.prepare('SELECT count(*) AS n FROM correction_strokes WHERE image_id = ?').get(imageId).n;
    return { revision: row?.revision ?? 0, strokes };
  } finally {
    db.close();
  }
}

/** What a killed export left at `outDir`: nothing, or a complete export. Returns 'absent' or 'complete'. */
function checkExportFolder(ctx, outDir, kind) {
  if (!existsSync(outDir)) return 'absent';
  const files = readdirSync(outDir, { recursive: true });
  if (kind === 'labels') {
    if (!files.includes('export.json')) throw ctx.dataLost(`the killed export left ${outDir} without its export.json: a half-written export under the user's name.`);
    const manifest = JSON.parse(readFileSync(join(outDir, 'export.json'), 'utf8'));
    for (const image of manifest.images) {
      if (!existsSync(join(outDir, image.file))) throw ctx.dataLost(`the export at ${outDir} lists ${image.file} but lacks it.`);
    }
  } else {
    if (!files.includes('model-card.json') || !files.includes('model.json')) {
      throw ctx.dataLost(`the killed model export left ${outDir} without model.json or model-card.json: a half-written export.`);
    }
    const model = JSON.parse(readFileSync(join(outDir, 'model.json'), 'utf8'));
    for (const group of model.weightsManifest ?? []) {
      for (const path of group.paths) if (!existsSync(join(outDir, path))) throw ctx.dataLost(`the model export at ${outDir} lacks its weight shard ${path}.`);
    }
  }
  return 'complete';
}

const needNobody = (ctx) => {
  if (ctx.nobodyBlocked) {
    ctx.note(`not tried: ${ctx.nobodyBlocked}.`);
    return null;
  }
  if (!ctx.asNobody && process.getuid?.() === 0) throw new Error('cannot run as an unprivileged user here (no setpriv), so permissions cannot be tried as root.');
  return ctx.asNobody ? { user: 'nobody' } : {};
};

// ------------------------------------------------------------------------------------------------------ cases

const hostileFiles = [
  hostileImage('text file named like an image', (p) => writeFileSync(p, 'not a png, just text'), /not a PNG/),
  hostileImage('truncated PNG', (p, d) => {
    const real = readFileSync(join(d, 'images', firstFile(join(d, 'images'))));
    writeFileSync(p, real.subarray(0, Math.floor(real.length / 2)));
  }, /truncated/),
  hostileImage('empty file named like an image', (p) => writeFileSync(p, ''), /not a PNG/),
  hostileImage('JPEG named like a PNG', (p) => writeFileSync(p, Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Buffer.alloc(60)])), /not a PNG/),
  hostileImage('PNG header of width 0', (p) => {
    const b = png(8, 8);
    b.writeUInt32BE(0, 16);
    writeFileSync(p, b);
  }, /invalid header/),
  hostileImage('16-bit RGB image', (p) => writeFileSync(p, png(64, 32, { depth: 16 })), null, { labelsToo: true }),
  hostileImage('palette image', (p) => writeFileSync(p, palettePng(64, 32)), null, { labelsToo: true }),
  hostileImage('16-bit label', (p) => writeFileSync(p, png(64, 32, { channels: 1, depth: 16, fill: 7 })), null, { where: 'labels' }),
  hostileImage('huge declared size (200000x200000 in a few bytes)', (p) => writeFileSync(p, hugeDeclaredPng(200000, 200000)), /over the limit|too large|pixels/),
  { ...hostileImage('FIFO named like an image', (p) => mkfifo(p), /not a regular file \(a named pipe\)/), fast: true },
  hostileImage('FIFO named like a label', (p) => mkfifo(p), /not a regular file \(a named pipe\)/, { where: 'labels' }),
  hostileImage('symlink loop named like an image', (p) => symlinkSync('99999.png', p), /ELOOP|symbolic links/),
  hostileImage('symlink to /dev/zero named like an image', (p) => symlinkSync('/dev/zero', p), /not a regular file \(a device\)/),
  hostileImage('folder named like an image', (p) => mkdirSync(p), /not a regular file \(a folder\)|EISDIR/),
  hostileImage('grey one-channel image', (p) => writeFileSync(p, png(64, 32, { channels: 1 })), /expected a colour image/),
  {
    name: '16-bit and palette images decoded by a round',
    group: 'import: hostile files',
    run: async (ctx) => {
      const data = await ctx.copyDemo('gta5');
      writeFileSync(join(data, 'images', '90001.png'), png(64, 32, { depth: 16 }));
      writeFileSync(join(data, 'labels', '90001.png'), png(64, 32, { channels: 1, depth: 16, fill: 7 }));
      writeFileSync(join(data, 'images', '90002.png'), palettePng(64, 32));
      writeFileSync(join(data, 'labels', '90002.png'), palettePng(64, 32));
      const project = join(ctx.tmp(), 'p');
      await importJson(ctx, (await ctx.demo()).cityscapes, project);
      const result = await importJson(ctx, data, project);
      if (result.problems.length) throw new Error(`16-bit or palette files were refused: ${JSON.stringify(result.problems)}`);
      // They come without depth, which CorDA needs on every source image: DACS decodes them just the same.
      const round = await briefRound(ctx, project, {}, ['--method', 'dacs']);
      if (round.status !== 0) throw new Error(`a round over 16-bit and palette images failed: ${round.stderr.trim().split('\n').pop()}`);
      ctx.tried(2);
    },
  },
  {
    name: 'names with spaces, quotes and non-ASCII letters',
    group: 'import: hostile files',
    run: async (ctx) => {
      const data = await ctx.copyDemo('gta5');
      const odd = join(ctx.tmp(), "dä ta 'set' \"x\" ✓");
      renameSync(data, odd);
      const src = firstFile(join(odd, 'images'));
      cpSync(join(odd, 'images', src), join(odd, 'images', "a b 'c' é.png"));
      cpSync(join(odd, 'labels', src), join(odd, 'labels', "a b 'c' é.png"));
      const result = await importJson(ctx, odd, join(ctx.tmp(), 'prøject ✓'));
      if (result.problems.length) throw new Error(`odd names gave problems: ${JSON.stringify(result.problems)}`);
    },
  },
  {
    name: 'unreadable image file',
    group: 'import: hostile files',
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const data = await ctx.copyDemo('gta5');
      const file = firstFile(join(data, 'images'));
      chmodSync(join(data, 'images', file), 0o000);
      const project = join(ctx.tmp(), 'p');
      mkdirSync(project, { mode: 0o777 });
      chmodSync(project, 0o777);
      const r = await ctx.cli(['import', data, '--project', project, '--json'], as);
      if (r.status !== 0) throw new Error(`the import failed: ${r.stderr.trim()}`);
      const problem = JSON.parse(r.stdout).problems.find((p) => p.file === `images/${file}`);
      if (!problem || !/EACCES|permission/i.test(problem.error)) throw new Error(`the unreadable file is not listed as a problem: ${r.stdout.trim()}`);
    },
  },
  {
    name: 'unreadable city folder',
    group: 'import: hostile files',
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const data = await ctx.copyDemo('cityscapes');
      const train = join(data, 'leftImg8bit', 'train');
      const city = readdirSync(train)[0];
      chmodSync(join(train, city), 0o000);
      const project = join(ctx.tmp(), 'p');
      mkdirSync(project);
      chmodSync(project, 0o777);
      const r = await ctx.cli(['import', data, '--project', project, '--json'], as);
      chmodSync(join(train, city), 0o755);
      if (r.status === 0) {
        const problem = JSON.parse(r.stdout).problems.find((p) => p.file.includes(city));
        if (!problem) throw new Error(`the unreadable folder ${city} was skipped without a problem line: ${r.stdout.trim()}`);
      } else ctx.expectSentence(r);
    },
  },
  {
    name: 'unreadable dataset folder',
    group: 'import: hostile files',
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const data = await ctx.copyDemo('gta5');
      chmodSync(data, 0o000);
      const project = join(ctx.tmp(), 'p');
      const r = await ctx.cli(['import', data, '--project', project], as);
      chmodSync(data, 0o755);
      ctx.expectSentence(r);
    },
  },
  {
    name: 'a 239-character file stem: imported, and its label export refused in one sentence',
    group: 'import: hostile files',
    run: async (ctx) => {
      const data = await ctx.copyDemo('cityscapes');
      for (const split of ['train', 'val']) {
        const dir = join(data, 'leftImg8bit', split);
        const city = readdirSync(dir)[0];
        const file = readdirSync(join(dir, city))[0];
        const stem = `${city}_${'x'.repeat(239 - city.length - 1 - split.length)}${split}`;
        renameSync(join(dir, city, file), join(dir, city, `${stem}_leftImg8bit.png`));
        // Its label's name would be over 255 bytes, which no file system takes: the image comes without labels.
        rmSync(join(data, 'gtFine', split, city, file.replace('_leftImg8bit.png', '_gtFine_labelIds.png')), { force: true });
      }
      const project = join(ctx.tmp(), 'p');
      await importJson(ctx, data, project);
      await importJson(ctx, (await ctx.demo()).gta5, project);
      const round = await briefRound(ctx, project, {}, ['--method', 'dacs']);
      if (round.status !== 0) throw new Error(`a round on the long names failed: ${round.stderr.trim().split('\n').pop()}`);
      const out = join(ctx.tmp(), 'out');
      const r = await ctx.cli(['export-labels', '--project', project, '--dataset', '1', '--out', out, '--which', 'predicted']);
      ctx.expectSentence(r, /file name .* bytes/);
      if (existsSync(out)) throw new Error('the refused export left its output folder behind.');
      ctx.tried(2);
    },
  },
  {
    name: 'a project path of 3000 characters',
    group: 'import: hostile files',
    run: async (ctx) => {
      const project = join(ctx.tmp(), ...Array.from({ length: 12 }, (_, i) => `${i}${'p'.repeat(240)}`));
      const r = await ctx.cli(['import', (await ctx.demo()).gta5, '--project', project, '--json']);
      expectRefusalOrSuccess(ctx, r);
    },
  },
];

/** Changes a file of an imported project, then runs a round and lists: a sentence or success, never a crash or hang. */
function changedAfterImport(name, change) {
  return {
    name,
    group: 'files changed after import',
    run: async (ctx) => {
      const project = await ctx.project();
      const image = targetImage(ctx, project);
      await change(ctx, image, project);
      expectRefusalOrSuccess(ctx, await ctx.cli(['datasets', '--project', project]));
      expectRefusalOrSuccess(ctx, await briefRound(ctx, project));
      ctx.tried(1);
    },
  };
}

const changedFiles = [
  changedAfterImport('image deleted', (ctx, i) => rmSync(join(i.root, i.rgbPath))),
  changedAfterImport('image replaced by a FIFO', (ctx, i) => {
    rmSync(join(i.root, i.rgbPath));
    mkfifo(join(i.root, i.rgbPath));
  }),
  changedAfterImport('image replaced by one of another size', (ctx, i) => writeFileSync(join(i.root, i.rgbPath), png(40, 20))),
  changedAfterImport('image replaced by garbage', (ctx, i) => writeFileSync(join(i.root, i.rgbPath), 'garbage')),
  changedAfterImport('label truncated', (ctx, i) => truncateSync(join(i.root, i.labelPath), 40)),
  changedAfterImport('image replaced by a folder', (ctx, i) => {
    rmSync(join(i.root, i.rgbPath));
    mkdirSync(join(i.root, i.rgbPath));
  }),
  changedAfterImport('whole dataset folder deleted', (ctx, i) => rmSync(i.root, { recursive: true, force: true })),
  {
    name: 'files turned into a FIFO, a symlink to one, a folder and garbage, then asked for in web mode',
    group: 'files changed after import',
    run: async (ctx) => {
      const project = await ctx.project();
      const db = ctx.db(project);
      const images = db.prepare("SELECT i.id, i.rgb_path AS rgbPath, d.root FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE d.kind = 'cityscapes' ORDER BY i.id LIMIT 4").all();
      db.close();
      const [fifo, link, folder, garbage] = images;
      rmSync(join(fifo.root, fifo.rgbPath));
      mkfifo(join(fifo.root, fifo.rgbPath));
      rmSync(join(link.root, link.rgbPath));
      symlinkSync(join(fifo.root, fifo.rgbPath), join(link.root, link.rgbPath));
      rmSync(join(folder.root, folder.rgbPath));
      mkdirSync(join(folder.root, folder.rgbPath));
      writeFileSync(join(garbage.root, garbage.rgbPath), 'garbage');
      const server = await ctx.serve({ project });
      for (const image of images) {
        for (const variant of ['rgb', 'thumb']) {
          const res = await globalThis.fetch(`http://127.0.0.1:${server.port}/api/image/${image.id}/${variant}?token=${server.token}`, {
            signal: globalThis.AbortSignal.timeout(15_000),
          }).catch((error) => {
            throw new Error(`image ${image.id} ${variant}: no answer (${error.message}), the server hangs on it.`);
          });
          await res.arrayBuffer().catch(() => undefined);
          if (image !== garbage && res.status === 200) throw new Error(`image ${image.id} ${variant}: a file that is no image any more was served.`);
          ctx.tried(1);
        }
        if (!(await server.alive())) throw new Error(`the server died on image ${image.id}.`);
      }
      await server.stop();
    },
  },
  {
    name: 'image deleted, then strokes on it in web mode',
    group: 'files changed after import',
    run: async (ctx) => {
      const project = await ctx.project();
      const image = targetImage(ctx, project);
      const server = await ctx.serve({ project });
      rmSync(join(image.root, image.rgbPath));
      const got = await server.call('getCorrection', { imageId: image.id });
      const stroke = await server.call('applyStroke', {
        imageId: image.id, baseRevision: 0, baseRoundId: null, tool: 'brush', classId: 3, delta: strokeDelta(0, 10, 3), ms: 5,
      });
      for (const reply of [got, stroke]) if (!reply.ok && /internal error/i.test(reply.error)) throw new Error(`answered with an internal error: ${reply.error}`);
      if (stroke.ok) throw new Error('a stroke on an image deleted from disk was accepted.');
      if (!(await server.alive())) throw new Error('the server died.');
      await server.stop();
    },
  },
];

const concurrent = [
  ...[1, 2, 3].map((n) => ({
    name: `two first imports into one new project at once (${n}: 6 new projects)`,
    group: 'concurrent writers',
    fast: n === 1,
    run: async (ctx) => {
      const demo = await ctx.demo();
      for (let t = 0; t < ctx.trials(6); t++) {
        const project = join(ctx.tmp(), 'p');
        const [a, b] = await Promise.all([
          ctx.cli(['import', demo.cityscapes, '--project', project, '--json']),
          ctx.cli(['import', demo.gta5, '--project', project, '--json']),
        ]);
        for (const r of [a, b]) if (r.status !== 0) throw new Error(`one of two simultaneous imports failed: ${r.stderr.trim().split('\n').pop()}`);
        ctx.integrity(project);
        const db = ctx.db(project);
        const n2 = db.prepare('SELECT count(*) AS n FROM datasets').get().n;
        db.close();
        if (n2 !== 2) throw ctx.dataLost(`two imports both reported success but the project holds ${n2} dataset(s).`);
        ctx.tried(1);
      }
    },
  })),
  {
    name: 'four CLIs at once on one new project (init, two imports, a listing), 4 times',
    group: 'concurrent writers',
    run: async (ctx) => {
      const demo = await ctx.demo();
      for (let t = 0; t < ctx.trials(4); t++) {
        const project = join(ctx.tmp(), 'p');
        const runs = await Promise.all([
          ctx.cli(['init', project]),
          ctx.cli(['import', demo.cityscapes, '--project', project, '--json']),
          ctx.cli(['import', demo.gta5, '--project', project, '--json']),
          ctx.sleep(150).then(() => ctx.cli(['datasets', '--project', project])),
        ]);
        // The listing may come before the project exists: then it says so in one sentence.
        for (const r of runs.slice(0, 3)) if (r.status !== 0) throw new Error(`a CLI beside three others failed: ${r.stderr.trim().split('\n').pop()}`);
        if (runs[3].status !== 0) ctx.expectSentence(runs[3], /No workbench project/);
        ctx.integrity(project);
        ctx.tried(1);
      }
    },
  },
  {
    name: 'two rounds started at once in one project',
    group: 'concurrent writers',
    run: async (ctx) => {
      const project = await ctx.project();
      const runs = await Promise.all([briefRound(ctx, project), briefRound(ctx, project)]);
      for (const r of runs) if (r.status !== 0) ctx.expectSentence(r);
      if (runs.every((r) => r.status !== 0)) throw new Error('neither of two simultaneous rounds ran.');
      ctx.integrity(project);
      const db = ctx.db(project);
      const open = db.prepare("SELECT count(*) AS n FROM rounds WHERE status NOT IN ('done', 'failed', 'cancelled')").get().n;
      db.close();
      if (open) throw new Error(`${open} round(s) were left running after both processes ended.`);
    },
  },
  {
    name: 'the same dataset imported twice at once',
    group: 'concurrent writers',
    run: async (ctx) => {
      const demo = await ctx.demo();
      const project = join(ctx.tmp(), 'p');
      const runs = await Promise.all([1, 2].map(() => ctx.cli(['import', demo.gta5, '--project', project, '--json'])));
      for (const r of runs) if (r.status !== 0) throw new Error(`a simultaneous import failed: ${r.stderr.trim().split('\n').pop()}`);
      ctx.integrity(project);
      const db = ctx.db(project);
      const counts = db.prepare('SELECT (SELECT count(*) FROM datasets) AS d, (SELECT count(*) FROM images) AS i').get();
      db.close();
      if (counts.d !== 1 || counts.i !== 6) throw ctx.dataLost(`two imports of one folder left ${counts.d} datasets and ${counts.i} images (expected 1 and 6).`);
    },
  },
  {
    name: 'two `corda init` of one new folder at once',
    group: 'concurrent writers',
    run: async (ctx) => {
      const project = join(ctx.tmp(), 'p');
      const runs = await Promise.all([1, 2].map(() => ctx.cli(['init', project])));
      for (const r of runs) if (r.status !== 0) throw new Error(`a simultaneous init failed: ${r.stderr.trim()}`);
      ctx.integrity(project);
    },
  },
  {
    name: 'listing while another CLI imports',
    group: 'concurrent writers',
    run: async (ctx) => {
      const demo = await ctx.demo();
      const project = await ctx.project();
      const importing = ctx.cli(['import', demo.gta5, '--project', project, '--role', 'target', '--json']);
      const lists = await Promise.all([0, 150, 300, 450].map(async (ms) => {
        await ctx.sleep(ms);
        return ctx.cli(['datasets', '--project', project, '--json']);
      }));
      for (const r of [...lists, await importing]) if (r.status !== 0) throw new Error(`a CLI failed beside another: ${r.stderr.trim()}`);
      ctx.integrity(project);
      ctx.tried(4);
    },
  },
  {
    name: 'an import while web mode saves strokes in the same project',
    group: 'concurrent writers',
    run: async (ctx) => {
      const project = await ctx.project();
      const image = targetImage(ctx, project);
      const server = await ctx.serve({ project });
      const ws = await socket(server);
      const importing = ctx.cli(['import', (await ctx.copyDemo('gta5')), '--project', project, '--json']);
      let revision = 0;
      for (let k = 0; k < 20; k++) {
        const reply = await ws.request('applyStroke', {
          imageId: image.id, baseRevision: revision, baseRoundId: null, tool: 'brush', classId: k % 19, delta: strokeDelta(k * 50, 50, k % 19), ms: 3,
        });
        if (!reply.ok) throw new Error(`a stroke beside an import was refused: ${reply.error}`);
        revision = reply.result.revision;
      }
      const r = await importing;
      if (r.status !== 0) throw new Error(`the import beside the server failed: ${r.stderr.trim()}`);
      ws.close();
      await server.stop();
      ctx.integrity(project);
      const row = correctionRow(ctx, project, image.id);
      if (row.revision !== revision) throw ctx.dataLost(`the server acknowledged revision ${revision}, the database holds ${row.revision}.`);
    },
  },
];

/** A damaged or unusual project folder: listing must give one sentence (or work), never "internal error". */
function damagedProject(name, damage, { expect = 'sentence', fast = false } = {}) {
  return {
    name,
    group: 'project database',
    fast,
    run: async (ctx) => {
      const project = await ctx.project();
      await damage(project, ctx);
      const r = await ctx.cli(['datasets', '--project', project]);
      if (expect === 'sentence') ctx.expectSentence(r);
      else if (r.status !== 0) throw new Error(`listing failed: ${r.stderr.trim()}`);
      const i = await ctx.cli(['import', (await ctx.demo()).gta5, '--project', project]);
      if (expect === 'sentence') ctx.expectSentence(i);
      ctx.tried(1);
    },
  };
}

const dbFile = (p) => join(p, 'workbench.sqlite');
const projectDb = [
  damagedProject('a folder named like the database', (p) => {
    rmSync(dbFile(p));
    mkdirSync(dbFile(p));
  }),
  damagedProject('garbage after the SQLite header', (p) => {
    const b = readFileSync(dbFile(p));
    for (let i = 100; i < b.length; i++) b[i] = (i * 7919) & 0xff;
    writeFileSync(dbFile(p), b);
  }, { fast: true }),
  damagedProject('a truncated database', (p) => truncateSync(dbFile(p), Math.floor(statSync(dbFile(p)).size / 2))),
  damagedProject('a database cut inside its header', (p) => truncateSync(dbFile(p), 60)),
  damagedProject('a database of zeros', (p) => writeFileSync(dbFile(p), Buffer.alloc(statSync(dbFile(p)).size))),
  damagedProject("another program's SQLite database", (p) => {
    rmSync(dbFile(p));
    const Database = require('better-sqlite3');
    const db = new Database(dbFile(p));
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
  }),
  damagedProject('a garbage -wal file beside the database', (p) => writeFileSync(`${dbFile(p)}-wal`, Buffer.alloc(5000, 0x5a)), { expect: 'works' }),
  {
    name: 'the project path is a file',
    group: 'project database',
    run: async (ctx) => {
      const file = join(ctx.tmp(), 'afile');
      writeFileSync(file, 'x');
      ctx.expectSentence(await ctx.cli(['import', (await ctx.demo()).gta5, '--project', file]));
      ctx.expectSentence(await ctx.cli(['datasets', '--project', '/dev/null']));
      ctx.tried(1);
    },
  },
  {
    name: 'a read-only project folder: lists, and refuses writes in one sentence',
    group: 'project database',
    fast: true,
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const project = await ctx.project();
      const parent = dirname(project);
      chmodSync(parent, 0o755);
      for (const f of readdirSync(project)) chmodSync(join(project, f), 0o444);
      chmodSync(project, 0o555);
      const list = await ctx.cli(['datasets', '--project', project, '--json'], as);
      if (list.status !== 0 || JSON.parse(list.stdout).length !== 2) throw new Error(`a read-only project cannot be listed: ${list.stderr.trim()}`);
      ctx.expectSentence(await ctx.cli(['import', (await ctx.demo()).gta5, '--project', project], as), /read-only/);
      ctx.expectSentence(await briefRound(ctx, project, as), /read-only/);
      chmodSync(project, 0o755);
      ctx.tried(2);
    },
  },
  {
    name: 'web mode on a read-only project: serves, lists, refuses a stroke in one sentence',
    group: 'project database',
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const project = await ctx.project();
      const image = targetImage(ctx, project);
      chmodSync(dirname(project), 0o755);
      for (const f of readdirSync(project)) chmodSync(join(project, f), 0o444);
      chmodSync(project, 0o555);
      const server = await ctx.serve({ project, ...as });
      const list = await server.call('listDatasets', {});
      if (!list.ok || list.result.length !== 2) throw new Error(`listing a read-only project in web mode failed: ${list.error}`);
      const stroke = await server.call('applyStroke', {
        imageId: image.id, baseRevision: 0, baseRoundId: null, tool: 'brush', classId: 3, delta: strokeDelta(0, 10, 3), ms: 5,
      });
      if (stroke.ok || !/read-only/.test(stroke.error)) throw new Error(`a stroke on a read-only project was not refused with a sentence: ${JSON.stringify(stroke).slice(0, 200)}`);
      if (!(await server.alive())) throw new Error('the server died.');
      await server.stop();
      chmodSync(project, 0o755);
      ctx.tried(1);
    },
  },
  {
    name: 'a read-only database file in a writable folder',
    group: 'project database',
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const project = await ctx.project();
      chmodSync(dirname(project), 0o755);
      chmodSync(project, 0o777);
      chmodSync(dbFile(project), 0o444);
      const list = await ctx.cli(['datasets', '--project', project, '--json'], as);
      if (list.status !== 0) throw new Error(`a read-only database cannot be listed: ${list.stderr.trim()}`);
      ctx.expectSentence(await ctx.cli(['import', (await ctx.demo()).gta5, '--project', project], as), /read-only/);
    },
  },
  {
    name: 'a new project under a folder the user cannot write',
    group: 'project database',
    run: async (ctx) => {
      const as = needNobody(ctx);
      if (!as) return;
      const parent = ctx.tmp();
      chmodSync(parent, 0o555);
      ctx.expectSentence(await ctx.cli(['import', (await ctx.demo()).gta5, '--project', join(parent, 'p')], as));
      ctx.expectSentence(await ctx.cli(['init', join(parent, 'q')], as));
      chmodSync(parent, 0o755);
      ctx.tried(1);
    },
  },
];

const datasetAsProject = [
  {
    name: 'import DS --project DS/proj',
    group: 'dataset as project',
    fast: true,
    run: async (ctx) => {
      const data = await ctx.copyDemo('gta5');
      const before = readdirSync(data, { recursive: true }).sort().join('\n');
      ctx.expectSentence(await ctx.cli(['import', data, '--project', join(data, 'proj')]), /keep projects outside dataset folders/);
      if (readdirSync(data, { recursive: true }).sort().join('\n') !== before) throw new Error('the refused import wrote into the dataset folder.');
    },
  },
  {
    name: 'import DS/leftImg8bit --project DS/proj',
    group: 'dataset as project',
    run: async (ctx) => {
      const data = await ctx.copyDemo('cityscapes');
      ctx.expectSentence(await ctx.cli(['import', join(data, 'leftImg8bit'), '--project', join(data, 'proj')]), /keep projects outside/);
      if (existsSync(join(data, 'proj'))) throw new Error('the refused import created the project inside the dataset.');
    },
  },
  {
    name: 'a project inside a dataset it already holds',
    group: 'dataset as project',
    run: async (ctx) => {
      const project = await ctx.project();
      const image = targetImage(ctx, project);
      const inside = join(image.root, 'moved-project');
      renameSync(project, inside);
      ctx.expectSentence(await ctx.cli(['import', (await ctx.demo()).gta5, '--project', inside]), /keep projects outside/);
    },
  },
  {
    name: 'export-labels --out inside the dataset',
    group: 'dataset as project',
    run: async (ctx) => {
      const project = await ctx.project({ round: true });
      const image = targetImage(ctx, project);
      ctx.expectSentence(
        await ctx.cli(['export-labels', '--project', project, '--dataset', '1', '--out', join(image.root, 'labels-out'), '--which', 'predicted']),
        /inside the folder of dataset/,
      );
    },
  },
];

// --------------------------------------------------------------------------------------------- kill -9 trials

/** Strokes sent at once in each stroke-save trial; the server is killed 0-150 ms after the first. */
const STROKES = 80;

const kills = [
  {
    name: 'kill -9 during stroke saves over the WebSocket',
    group: 'kill -9',
    fast: true,
    run: async (ctx) => {
      const project = await ctx.project();
      const image = targetImage(ctx, project);
      const trials = ctx.trials(20);
      let midway = 0;
      for (let t = 0; t < trials; t++) {
        const server = await ctx.serve({ project });
        const ws = await socket(server);
        const start = await ws.request('getCorrection', { imageId: image.id });
        if (!start.ok) throw new Error(`getCorrection failed after a restart: ${start.error}`);
        let acked = start.result.revision;
        const base = start.result.revision;
        // Pipelined strokes (as the editor's save queue after a reconnect), killed at a random moment.
        const replies = [];
        for (let k = 0; k < STROKES; k++) {
          const classId = Math.floor(ctx.random() * 19);
          const length = 200 + Math.floor(ctx.random() * 1500);
          const start0 = Math.floor(ctx.random() * (64 * 32 - length)); // the demo's 64x32 images
          replies.push(
            ws.request('applyStroke', {
              imageId: image.id, baseRevision: base + k, baseRoundId: null, tool: 'brush', classId, delta: strokeDelta(start0, length, classId), ms: 2,
            }).then((reply) => {
              if (reply.ok) acked = Math.max(acked, reply.result.revision);
              else if (!reply.unanswered) throw new Error(`stroke ${k} was refused: ${reply.error}`);
            }),
          );
        }
        await ctx.sleep(Math.floor(ctx.random() * 150));
        await server.kill();
        ws.close();
        await ws.closed;
        const refused = (await Promise.allSettled(replies)).find((r) => r.status === 'rejected');
        if (refused) throw refused.reason;
        if (acked - base < STROKES) midway++;
        ctx.integrity(project);
        const row = correctionRow(ctx, project, image.id);
        if (row.revision < acked) throw ctx.dataLost(`trial ${t + 1}: the server acknowledged revision ${acked} but the database holds ${row.revision} after kill -9.`);
        if (row.revision > 0 && row.strokes < Math.min(row.revision, 1000)) throw ctx.dataLost(`trial ${t + 1}: revision ${row.revision} but only ${row.strokes} strokes kept.`);
        ctx.tried(1);
      }
      ctx.note(`${midway} of ${trials} kills landed before all ${STROKES} pipelined strokes were acknowledged.`);
    },
  },
  {
    name: 'kill -9 during an import',
    group: 'kill -9',
    fast: true,
    run: async (ctx) => {
      const big = join(ctx.tmp(), 'big');
      const made = await ctx.cli(['demo-data', big, '--images', '300', '--size', '32x32', '--seed', '3'], { timeoutMs: 120_000 });
      if (made.status !== 0) throw new Error(`demo-data failed: ${made.stderr.trim()}`);
      const project = join(ctx.tmp(), 'p');
      const trials = ctx.trials(20);
      let midway = 0;
      for (let t = 0; t < trials; t++) {
        const run = ctx.spawnCli(['import', join(big, 'gta5'), '--project', project, '--json'], { timeoutMs: 60_000 });
        await ctx.sleep(100 + Math.floor(ctx.random() * 850)); // the whole import takes about 1 s here
        if (await ctx.kill(run.child)) midway++;
        const r = await run.result;
        if (!existsSync(dbFile(project))) {
          ctx.tried(1);
          continue;
        }
        ctx.integrity(project);
        const db = ctx.db(project);
        // Killed while the new project was being migrated: the migration rolled back and no table exists yet.
        const migrated = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'datasets'").get().n === 1;
        const counts = migrated ? db.prepare('SELECT (SELECT count(*) FROM datasets) AS d, (SELECT count(*) FROM images) AS i').get() : { d: 0, i: 0 };
        db.close();
        if (counts.d > 1 || (counts.d === 1 && counts.i !== 300) || (counts.d === 0 && counts.i !== 0)) {
          throw ctx.dataLost(`trial ${t + 1}: a killed import left ${counts.d} dataset(s) with ${counts.i} images (expected all 300 or nothing).`);
        }
        if (r.status === 0 && counts.i !== 300) throw ctx.dataLost(`trial ${t + 1}: the import reported success but ${counts.i} images are stored.`);
        ctx.tried(1);
      }
      ctx.note(`${midway} of ${trials} imports were killed before they ended.`);
      const again = await ctx.cli(['import', join(big, 'gta5'), '--project', project, '--json']);
      if (again.status !== 0 || JSON.parse(again.stdout).counts.train !== 300) throw new Error(`importing again after the kills failed: ${again.stderr.trim()}`);
    },
  },
  {
    name: 'kill -9 during a round, then resume it',
    group: 'kill -9',
    run: async (ctx) => {
      const project = await ctx.project();
      const trials = ctx.trials(20);
      const args = ['--crop', '64x32', '--working-width', '64', '--eval-every', '0', '--json'];
      let midway = 0;
      let resumed = 0;
      for (let t = 0; t < trials; t++) {
        const run = ctx.spawnCli(['adapt', '--project', project, '--iters', '4', '--checkpoint-every', '1', ...args], { timeoutMs: 120_000 });
        await ctx.sleep(500 + Math.floor(ctx.random() * 5000));
        if (await ctx.kill(run.child)) midway++;
        const r = await run.result;
        if (r.status !== null && r.status !== 0) throw new Error(`trial ${t + 1}: the round failed by itself: ${r.stderr.trim().split('\n').pop()}`);
        ctx.integrity(project);
        const db = ctx.db(project);
        const open = db.prepare("SELECT id, status FROM rounds WHERE status != 'done' ORDER BY id").all();
        db.close();
        for (const round of open) {
          const again = await ctx.cli(['adapt', '--project', project, '--resume', String(round.id), '--json'], { timeoutMs: 120_000 });
          if (again.status !== 0) throw ctx.dataLost(`trial ${t + 1}: round ${round.id} (${round.status}) killed with kill -9 does not resume: ${again.stderr.trim().split('\n').pop()}`);
          resumed++;
          ctx.integrity(project);
        }
        ctx.tried(1);
      }
      const db = ctx.db(project);
      const left = db.prepare("SELECT count(*) AS n FROM rounds WHERE status != 'done'").get().n;
      db.close();
      if (left) throw ctx.dataLost(`${left} round(s) were left unfinished after resuming.`);
      ctx.note(`${midway} of ${trials} rounds were killed before they ended; ${resumed} resumed to the end.`);
    },
  },
  {
    name: 'kill -9 during an export (labels and model)',
    group: 'kill -9',
    run: async (ctx) => {
      const project = await ctx.project({ round: true });
      const trials = ctx.trials(20);
      let midway = 0;
      for (let t = 0; t < trials; t++) {
        const kind = t % 2 === 0 ? 'labels' : 'model';
        const out = join(ctx.tmp(), 'out');
        const args = kind === 'labels'
          ? ['export-labels', '--project', project, '--dataset', '1', '--out', out, '--which', 'predicted', '--format', 'color']
          : ['export-model', '--project', project, '--round', '1', '--format', 'tfjs', '--out', out];
        const run = ctx.spawnCli(args, { timeoutMs: 60_000 });
        await ctx.sleep(100 + Math.floor(ctx.random() * 900));
        if (await ctx.kill(run.child)) midway++;
        const r = await run.result;
        if (r.status !== null && r.status !== 0) throw new Error(`trial ${t + 1}: the export failed by itself: ${r.stderr.trim()}`);
        const state = checkExportFolder(ctx, out, kind);
        if (r.status === 0 && state !== 'complete') throw ctx.dataLost(`trial ${t + 1}: the export reported success but ${out} is missing.`);
        ctx.integrity(project);
        ctx.tried(1);
      }
      ctx.note(`${midway} of ${trials} exports were killed before they ended.`);
    },
  },
];

export const cases = [...hostileFiles, ...changedFiles, ...concurrent, ...projectDb, ...datasetAsProject, ...kills];
