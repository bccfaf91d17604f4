import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

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
    rules: {
      'no-restricted-imports': ['error', { patterns: ['electron', 'react', 'react-dom', '*/renderer/*', '*/main/*', '*/preload/*'] }],
    },
  },
  // The command line starts rounds through the service and its job queue, as every other client does.
  {
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['electron', 'react', 'react-dom', '*/renderer/*', '*/main/*', '*/preload/*'] },
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
