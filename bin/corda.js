#!/usr/bin/env node
// The `corda` command: runs the bundled CLI, or the TypeScript sources through tsx when not built yet.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundled = join(__dirname, '..', 'out', 'main', 'cli.js');
if (existsSync(bundled)) {
  require(bundled);
} else {
  require('tsx/cjs');
  require(join(__dirname, '..', 'src', 'cli', 'run.ts'));
}
