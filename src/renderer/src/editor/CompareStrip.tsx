// Three-way comparison for one image: the pseudo-label the correction started from, the correction, and the
// newest round's prediction, side by side, so a person sees whether the fixes carried into the next round.
import { useEffect, useState } from 'react';
import { colorizeTrainIds } from '../../../shared/labels';
import { layerUrl } from '../api/connect';
import type { EditorPlanes } from '../canvas/stroke';

interface CompareStripProps {
  imageId: number;
  baseRoundId: number | null;
  latestRoundId: number | null;
  planes: EditorPlanes;
  /** Changes whenever the correction changes, to refresh its picture. */
  version: number;
}

export function CompareStrip({ imageId, baseRoundId, latestRoundId, planes, version }: CompareStripProps) {
  const correction = useCorrectionPicture(planes, version);
  const panes = [
    { id: 'pseudo', title: baseRoundId ? `Pseudo-label (round ${baseRoundId})` : 'Pseudo-label (no round)', src: baseRoundId ? layerUrl(imageId, baseRoundId, 'prediction') : null },
    { id: 'correction', title: 'Correction', src: correction },
    {
      id: 'newest',
      title: latestRoundId && latestRoundId !== baseRoundId ? `Newest prediction (round ${latestRoundId})` : 'Newest prediction (no newer round yet)',
      src: latestRoundId && latestRoundId !== baseRoundId ? layerUrl(imageId, latestRoundId, 'prediction') : null,
    },
  ];
  return (
    <div className="compare" data-testid="compare-strip">
      {panes.map((pane) => (
        <figure key={pane.id} className="compare__pane" data-testid={`compare-${pane.id}`}>
          {pane.src ? <img src={pane.src} alt={pane.title} /> : <div className="compare__empty" />}
          <figcaption>{pane.title}</figcaption>
        </figure>
      ))}
    </div>
  );
}

function useCorrectionPicture(planes: EditorPlanes, version: number): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const canvas = document.createElement('canvas');
    canvas.width = planes.width;
    canvas.height = planes.height;
    canvas.getContext('2d')!.putImageData(new ImageData(colorizeTrainIds(planes.labels) as Uint8ClampedArray<ArrayBuffer>, planes.width, planes.height), 0, 0);
    let made: string | null = null;
    let live = true;
    canvas.toBlob((blob) => {
      if (!blob || !live) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    });
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [planes, version]);
  return url;
}
