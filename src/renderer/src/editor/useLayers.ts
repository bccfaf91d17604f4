// Which layers show over the image and how strongly (the newest round's, the pseudo depth, the ground truth,
// the correction and its edited pixels), hold-to-peek, and the rows of the layers panel.
import { useEffect, useMemo, useState } from 'react';
import type { ImageSummary, RoundLayer } from '../../../shared/api';
import { imageUrl, layerUrl } from '../api/connect';
import type { LabelCanvas, OverlaySpec } from '../canvas/labelCanvas';
import type { EditorSession } from '../canvas/session';
import type { LayerRow, LayerSetting } from './LayersPanel';

const ROUND_LAYERS: { id: RoundLayer; label: string }[] = [
  { id: 'prediction', label: 'Prediction' },
  { id: 'difficulty', label: 'Difficulty' },
  { id: 'confidence', label: 'Confidence' },
  { id: 'depth_src', label: 'Depth (source head)' },
  { id: 'depth_tgt', label: 'Depth (target head)' },
];

const DEFAULT_LAYERS: Record<string, LayerSetting> = {
  prediction: { visible: false, opacity: 0.6 },
  difficulty: { visible: false, opacity: 0.6 },
  confidence: { visible: false, opacity: 0.6 },
  depth_src: { visible: false, opacity: 0.8 },
  depth_tgt: { visible: false, opacity: 0.8 },
  depth: { visible: false, opacity: 0.8 },
  gt: { visible: true, opacity: 0.5 },
  correction: { visible: true, opacity: 0.5 },
  human: { visible: false, opacity: 1 },
};

export function useLayers(canvas: LabelCanvas | null, session: EditorSession | null, image: ImageSummary, latestRoundId: number | null, editable: boolean) {
  const [layers, setLayers] = useState<Record<string, LayerSetting>>(DEFAULT_LAYERS);
  const [peek, setPeek] = useState(false);

  const overlays = useMemo<OverlaySpec[]>(() => {
    const list: OverlaySpec[] = [];
    const layer = (id: string, url: string) => list.push({ id, url, visible: layers[id]!.visible, opacity: layers[id]!.opacity });
    if (image.hasDepth) layer('depth', imageUrl(image.id, 'depth'));
    if (latestRoundId !== null) for (const l of ROUND_LAYERS) layer(l.id, layerUrl(image.id, latestRoundId, l.id));
    if (image.hasLabels) layer('gt', imageUrl(image.id, 'label'));
    return list;
  }, [image.id, image.hasDepth, image.hasLabels, latestRoundId, layers]);

  useEffect(() => canvas?.setOverlays(overlays), [canvas, overlays]);
  useEffect(() => {
    canvas?.setCorrectionStyle({ visible: layers.correction!.visible, opacity: layers.correction!.opacity, showHuman: layers.human!.visible, peek });
  }, [canvas, layers, peek, session]);

  // A peek ends with the key; also when the window loses focus and never sees the key go up.
  useEffect(() => {
    const blur = () => setPeek(false);
    window.addEventListener('blur', blur);
    return () => window.removeEventListener('blur', blur);
  }, []);

  const noRound = latestRoundId === null ? 'No finished round for this dataset yet' : undefined;
  const rows: LayerRow[] = [
    { id: 'correction', label: 'Correction', ...(!editable && { unavailable: 'Corrections are made on target images' }) },
    { id: 'human', label: 'Edited pixels', ...(!editable && { unavailable: 'Corrections are made on target images' }) },
    ...ROUND_LAYERS.map((l) => ({ id: l.id, label: l.label, ...(noRound && { unavailable: noRound }) })),
    { id: 'depth', label: 'Pseudo depth', ...(!image.hasDepth && { unavailable: 'This image has no depth' }) },
    { id: 'gt', label: 'Ground truth', ...(!image.hasLabels && { unavailable: 'This image has no ground truth' }) },
  ];

  return {
    layers,
    rows,
    setLayer: (id: string, setting: LayerSetting) => setLayers((current) => ({ ...current, [id]: setting })),
    toggleCorrection: () => setLayers((current) => ({ ...current, correction: { ...current.correction!, visible: !current.correction!.visible } })),
    setPeek,
  };
}
