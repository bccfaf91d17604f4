import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { readFileSync } from 'node:fs';
import { URL as NodeURL } from 'node:url';

// What core may never reach for, wherever in core a file sits.
const CORE_RUNTIME = ['electron', 'react', 'react-dom', '*/renderer/*', '*/main/*', '*/preload/*'];
const ABOVE_CORE = { regex: '^(\\.\\./)+(server|cli)(/|$)', message: 'core sits below the server and the command line (src/layers.json).' };

// Core's layers (src/layers.json, also checked on the whole import graph by src/layers.test.ts): each part of core
// may import its own layer and the ones below, never one above. Imports are relative, so a part is matched by
// its name after any run of ./ and ../ (no folder inside core shares a name with a part above it).
const { layers, knownUpward } = JSON.parse(readFileSync(new NodeURL('./src/layers.json', import.meta.url), 'utf8'));
const coreParts = layers.flatMap((parts, rank) => parts.filter((p) => p.startsWith('core/')).map((p) => ({ name: p.slice('core/'.length), rank })));
const partPattern = (name) => (name.endsWith('.ts') ? `${name.slice(0, -3).replace('.', '\\.')}$` : `${name}(/|$)`);
const partOfFile = (file) => coreParts.filter(({ name }) => file === `core/${name}` || file.startsWith(`core/${name}/`)).sort((a, b) => b.name.length - a.name.length)[0];

function layerRule(files, rank, allowed = []) {
  const above = coreParts.filter((p) => p.rank > rank && !allowed.includes(p.name)).map((p) => p.name);
  const patterns = [...CORE_RUNTIME.map((group) => ({ group: [group] })), ABOVE_CORE];
  if (above.length > 0) {
    patterns.push({
      regex: `^(\\.{1,2}/)+(${above.map(partPattern).join('|')})`,
      message: `This part of core sits below ${above.map((p) => `core/${p}`).join(', ')} (src/layers.json): move what both need down instead.`,
    });
  }
  return { files, ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

const coreLayerRules = [
  ...coreParts.map(({ name, rank }) => layerRule([name.endsWith('.ts') ? `src/core/${name}` : `src/core/${name}/**/*.ts`], rank)),
  // The files that still import upwards may import that part only (src/layers.test.ts holds the list to the tree).
  ...[...new Set(knownUpward.map((k) => k.import.split(' -> ')[0]))].map((from) => {
    const allowed = knownUpward.map((k) => k.import.split(' -> ')).filter(([f]) => f === from).map(([, to]) => partOfFile(to).name);
    return layerRule([`src/${from}`], partOfFile(from).rank, allowed);
  }),
];

export default tseslint.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'artifacts/', 'test-results/', 'playwright-report/', 'native/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly', performance: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  // Where a file lives says where it runs: core never reaches for Electron or React, shared for nothing at all.
  {
    files: ['src/core/**/*.ts', 'src/server/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: CORE_RUNTIME }] },
  },
  ...coreLayerRules,
  // The command line starts rounds through the service and its job queue, as every other client does.
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...CORE_RUNTIME.map((pattern) => ({ group: [pattern] })),
          { group: ['**/adapt/round', '**/jobs/roundWorker'], message: 'Start rounds with the service (startRound, resumeRound) and wait for the job.' },
        ],
      }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'electron', 'react', '*/core/*', '*/main/*', '*/renderer/*', 'fs', 'path'] }],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*', 'electron', '*/core/*', '*/main/*', '*/server/*'] }] },
  },
  // The editor's canvas stands alone: no React, no transport of its own (a session is handed one), nothing from
  // the screens above it.
  {
    files: ['src/renderer/src/canvas/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', 'electron', '*/core/*', '*/main/*', '*/server/*', 'react', 'react-dom', '*/api/*', '*/ApiContext', '*/editor/*', '*/library/*', '*/rounds/*', '*/components/*'] },
      ],
    },
  },
);
