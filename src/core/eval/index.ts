// Pixel-level semantic-segmentation evaluation (cityscapesScripts-compatible); see DATASETS.md, "Evaluation".
export { CONFUSION_COLS, MISS_COLUMN, accumulate, createConfusion, mergeInto, type ConfusionMatrix } from './confusion';
export { classIoUs, computeMetrics, formatMetricsTable, type Metrics } from './metrics';
export {
  decodeLabelPng,
  evaluateFiles,
  findGroundTruth,
  type EvaluateFilesOptions,
  type EvaluateFilesResult,
  type PredictionFormat,
} from './evalFiles';
