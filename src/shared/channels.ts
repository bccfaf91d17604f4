// Names the preload needs, kept free of dependencies: a sandboxed preload cannot load npm packages.
// api.ts checks at compile time that METHOD_NAMES lists exactly the contract's methods.

export const METHOD_NAMES = [
  'getAppInfo',
  'listDatasets',
  'importDataset',
  'listImportProblems',
  'listImages',
  'getImage',
  'generateThumbnails',
  'cancelJob',
  'pickFolder',
  'listRounds',
  'startRound',
  'resumeRound',
  'getCorrection',
  'applyStroke',
  'undoStroke',
  'redoStroke',
  'getBudget',
  'nextRegion',
  'setRegionState',
  'getRegionStats',
  'exportModel',
  'exportLabels',
] as const;

/** IPC channel names in Electron: a fixed prefix, one per method, one for events. */
export const IPC_PREFIX = 'corda:';
export const IPC_EVENT_CHANNEL = 'corda-event';
export const ipcChannel = (name: string): string => `${IPC_PREFIX}${name}`;

/** Custom protocol scheme through which Electron serves images by id. */
export const IMAGE_SCHEME = 'corda-img';

/** What travels back over IPC: errors as plain messages so the renderer shows the sentence, not a wrapper. */
export type IpcResult = { ok: true; result: unknown } | { ok: false; error: string };
