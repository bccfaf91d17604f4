// model-card.json: everything someone holding only the export folder needs to run the model correctly
// (classes and palette, the input's size, layout and normalisation, what each output holds) and to know where
// it came from (the round's config, backend, metrics and training data).
import type { ModelFormat } from '../../../shared/api';
import { TRAIN_CLASSES } from '../../../shared/labels';
import type { Preset } from '../../model/network';
import type { InferenceGraph, Shape } from '../../model/graph/graph';

export interface CardSource {
  format: ModelFormat;
  graph: InferenceGraph;
  preset: Preset;
  files: string[];
  appVersion: string;
  round: {
    id: number;
    parentId: number | null;
    method: string;
    preset: string;
    iteration: number;
    config: Record<string, unknown>;
    backend: Record<string, unknown> | null;
    metrics: Record<string, unknown> | null;
    timings: Record<string, number> | null;
    createdAt: string;
    finishedAt: string | null;
  };
  /** The datasets the round trained on (names and kinds; their folders stay private). */
  training: { source: { id: number; name: string; kind: string } | null; target: { id: number; name: string; kind: string } | null };
}

export function modelCard(s: CardSource): Record<string, unknown> {
  const nhwc = s.format === 'tfjs';
  const [height, width] = s.graph.input.shape;
  const shapeOf = ([h, w, c]: Shape) => (nhwc ? [1, h, w, c] : [1, c, h, w]);
  const file = s.format === 'tfjs' ? 'model.json' : 'model.onnx';
  const { backend, metrics, ...round } = s.round;
  return {
    cardVersion: 1,
    name: `CorDA workbench round ${s.round.id} (${s.round.method}, ${s.round.preset})`,
    format: s.format === 'tfjs' ? 'tfjs-graph-model' : `onnx (opset 13)`,
    files: s.files,
    usage:
      s.format === 'tfjs'
        ? `tf.loadGraphModel('${file}' as a URL, or file://<folder>/${file} with tfjs-node); model.predict(x) returns { ${s.graph.outputs.map((o) => o.name).join(', ')} } for x of input.shape.`
        : `new onnxruntime.InferenceSession('${file}') (or any ONNX runtime); run({ ${s.graph.input.name}: x }) returns ${s.graph.outputs.map((o) => o.name).join(', ')} for x of input.shape.`,
    classes: TRAIN_CLASSES.map((c) => c.name),
    palette: TRAIN_CLASSES.map((c) => [...c.color]),
    input: {
      name: s.graph.input.name,
      width,
      height,
      layout: nhwc ? 'NHWC' : 'NCHW',
      shape: shapeOf(s.graph.input.shape),
      dtype: 'float32',
      channels: 'RGB',
      scale: 255,
      mean: [...s.preset.input.mean],
      std: [...s.preset.input.std],
      normalisation: `(pixel / scale - mean) / std per RGB channel: ${s.preset.input.description}`,
      resize: `Resize the whole image to ${width}x${height} with bilinear filtering before normalising, as the workbench does (the model pads and crops internally); outputs come at that size.`,
    },
    outputs: Object.fromEntries(s.graph.outputs.map((o) => [o.name, { holds: o.holds, shape: shapeOf(o.shape), layout: nhwc ? 'NHWC' : 'NCHW' }])),
    round,
    backend,
    metrics,
    training: s.training,
    exportedBy: { app: 'corda-workbench', version: s.appVersion },
    exportedAt: new Date().toISOString(),
  };
}
