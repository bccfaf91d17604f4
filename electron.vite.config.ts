import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';

// main/ also bundles the plain-Node entry points (the `corda` CLI and web-mode server) so that one build serves
// the desktop app, the terminal and the browser.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      target: 'node20',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/cli/run.ts'),
          roundWorker: resolve(__dirname, 'src/core/jobs/roundWorker.ts'),
          trainReplica: resolve(__dirname, 'src/core/adapt/trainReplica.ts'),
          labelDecodeWorker: resolve(__dirname, 'src/core/datasets/labelDecodeWorker.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
