// Installers for the desktop app (`npm run dist`, see scripts/dist.mjs): Linux AppImage + deb, macOS dmg,
// Windows nsis. Type-checked with the rest of the Node side; src/main/electronBuilderConfig.test.ts checks that
// its patterns match the real files.
import type { Configuration } from 'electron-builder';
import pkg from './package.json';
import { afterPackFlipFuses } from './electron-fuses';

/** The Electron the app is built against: the one npm installs (an optional dependency, see TOOLCHAIN.md). */
export const ELECTRON_VERSION = pkg.optionalDependencies.electron;

/**
 * Files that need a real path outside app.asar. The wasm binaries are read by path by the tfjs wasm loader;
 * native addons are loaded with dlopen; sharp's addon finds libvips beside it by a relative rpath, so its
 * packages move out whole.
 */
export const ASAR_UNPACK = [
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
  // better-sqlite3's Electron build (see `files`): electron-builder matches a file copied in by a FileSet by the
  // path it comes from, so the source is named too.
  'node_modules/better-sqlite3/build/Release/*.node',
  'native/electron/*.node',
  'node_modules/sharp/**',
  'node_modules/@img/**',
  // Optional dependencies, packaged where they installed: native addons with libtensorflow beside them.
  'node_modules/@tensorflow/tfjs-node/**',
  'node_modules/@tensorflow/tfjs-node-gpu/**',
  // ONNX Runtime's addon and libonnxruntime beside it (prediction after a round, src/core/adapt/onnxPredictor.ts).
  'node_modules/onnxruntime-node/bin/**',
];

const config: Configuration = {
  appId: 'org.corda.workbench',
  productName: 'CorDA Workbench',
  executableName: 'corda-workbench',
  copyright: 'CorDA Workbench contributors',
  electronVersion: ELECTRON_VERSION,
  directories: { output: 'dist', buildResources: 'resources' },
  // electron-vite's output and the window icon; electron-builder adds the production dependencies itself.
  files: [
    'package.json',
    'out/main/**',
    'out/preload/**',
    'out/renderer/**',
    'resources/icon.png',
    // better-sqlite3 ships the Electron build that scripts/postinstall.mjs made in native/electron/, in the place
    // of its plain-Node build, so the main process and the worker threads load it by the package's own lookup.
    '!node_modules/better-sqlite3/{build,deps,src}/**',
    { from: 'native/electron', to: 'node_modules/better-sqlite3/build/Release', filter: ['better_sqlite3.node'] },
    // An optional dependency for `npm start`; the installer brings its own Electron.
    '!node_modules/electron/**',
    // Source maps and bundle reports: about 150 MB in the tfjs packages alone.
    '!**/*.map',
    '!**/*.min.js.html',
    // dawn.node for this OS only (the package ships five, about 17 MB each).
    '!node_modules/webgpu/dist/!(${platform}-*)/**',
    // ONNX Runtime for this OS and architecture only (the package ships seven builds, 290 MB in all).
    '!node_modules/onnxruntime-node/bin/napi-v6/!(${platform})/**',
    '!node_modules/onnxruntime-node/bin/napi-v6/${platform}/!(${arch})/**',
  ],
  asar: true,
  asarUnpack: ASAR_UNPACK,
  // Fuses (electron-fuses.ts): no ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect; only app.asar, integrity-checked.
  // electron-builder 25 has no `electronFuses` key, so a hook writes them before signing.
  afterPack: afterPackFlipFuses,
  // electron-builder's own rebuild would rebuild node_modules/better-sqlite3 in place for Electron, breaking the
  // CLI, web mode and the tests, which run under Node; the Electron build comes from native/electron/ instead.
  npmRebuild: false,
  buildDependenciesFromSource: false,
  icon: 'resources/icon-1024.png',
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    maintainer: 'CorDA Workbench contributors',
    synopsis: 'Domain-adaptive semantic segmentation with a person in the loop',
  },
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools' },
  dmg: { title: 'CorDA Workbench' },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  publish: null,
};

export default config;
