// Virtualised thumbnail grid: only the rows in (or near) view exist in the DOM, so thousands of images stay smooth.
// Thumbs use a roving tabindex: one is tabbable, arrow keys move focus, Enter (or a click) opens it.
import { memo, useCallback, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import type { ImageSummary } from '../../../shared/api';
import { imageUrl } from '../api/connect';
import { CELL_GAP, gridLayout, nextGridIndex } from './gridLayout';
import './library.css';

interface ThumbnailGridProps {
  images: ImageSummary[];
  /** The image that holds the grid's tab stop (last focused or last viewed). */
  activeImageId: number | null;
  onActiveChange: (imageId: number) => void;
  onOpen: (imageId: number) => void;
  /** Focus the active thumb when the grid mounts (coming back from the image view). */
  focusActiveOnMount?: boolean;
  stale?: boolean;
}

export function ThumbnailGrid({ images, activeImageId, onActiveChange, onOpen, focusActiveOnMount = false, stale = false }: ThumbnailGridProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const pendingFocusIndex = useRef<number | null>(null);
  const restoredOnMount = useRef(false);
  const [width, setWidth] = useState(0);
  const [viewportHeight, setViewportHeight] = useState(0);

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (!entry) return;
      setWidth(entry.contentRect.width);
      setViewportHeight(entry.contentRect.height);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const { columns, cellWidth, rowHeight } = gridLayout(width);
  const rowCount = Math.ceil(images.length / columns);
  const activeIndex = Math.max(0, images.findIndex((image) => image.id === activeImageId));
  const activeRow = Math.floor(activeIndex / columns);
  // The focused thumb's row stays mounted when scrolled out of view, so focus (and arrow keys) are not lost.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const rows = defaultRangeExtractor(range);
      if (activeRow >= range.count || rows.includes(activeRow)) return rows;
      return [...rows, activeRow].sort((a, b) => a - b);
    },
    [activeRow],
  );

  // The compiler cannot memoise around the virtualiser's mutable API; this component is not memoised, so that is fine.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 3,
    paddingStart: CELL_GAP,
    rangeExtractor,
  });

  useEffect(() => {
    virtualizer.measure();
  }, [virtualizer, rowHeight, columns]);

  // Once the width is known: bring the active thumb into view, and focus it when asked to.
  useEffect(() => {
    if (width === 0 || restoredOnMount.current) return;
    restoredOnMount.current = true;
    if (activeImageId === null || images.length === 0) return;
    virtualizer.scrollToIndex(Math.floor(activeIndex / columns), { align: 'center' });
    if (focusActiveOnMount) pendingFocusIndex.current = activeIndex;
  }, [width, activeImageId, activeIndex, columns, images.length, virtualizer, focusActiveOnMount]);

  // Keyboard moves focus to a thumb that may only exist after the virtualiser has scrolled and re-rendered.
  useEffect(() => {
    const index = pendingFocusIndex.current;
    if (index === null) return;
    const cell = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${index}"]`);
    if (cell) {
      pendingFocusIndex.current = null;
      cell.focus({ preventScroll: true });
    }
  });

  function moveFocus(index: number) {
    const image = images[index];
    if (!image) return;
    pendingFocusIndex.current = index;
    onActiveChange(image.id);
    virtualizer.scrollToIndex(Math.floor(index / columns), { align: 'auto' });
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (!(event.target instanceof HTMLElement) || event.target.dataset.testid !== 'thumb') return;
    const pageRows = Math.max(1, Math.floor(viewportHeight / rowHeight));
    const next = nextGridIndex(event.key, activeIndex, images.length, columns, pageRows);
    if (next === null) return;
    event.preventDefault();
    moveFocus(next);
  }

  return (
    <div
      ref={scrollRef}
      className={`thumbnail-grid${stale ? ' thumbnail-grid--stale' : ''}`}
      data-testid="thumbnail-grid"
      role="grid"
      aria-label="Images"
      aria-rowcount={rowCount}
      onKeyDown={onKeyDown}
    >
      {images.length === 0 && <p className="thumbnail-grid__empty muted">No images match these filters.</p>}
      <div className="thumbnail-grid__canvas" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => {
          const rowImages = images.slice(row.index * columns, (row.index + 1) * columns);
          return (
            <div
              key={row.key}
              className="thumbnail-grid__row"
              role="row"
              aria-rowindex={row.index + 1}
              style={{ transform: `translateY(${row.start}px)`, height: rowHeight - CELL_GAP, gap: CELL_GAP, paddingLeft: CELL_GAP }}
            >
              {rowImages.map((image, column) => {
                const index = row.index * columns + column;
                return (
                  <Thumb
                    key={image.id}
                    image={image}
                    index={index}
                    width={cellWidth}
                    tabbable={index === activeIndex}
                    onFocusImage={onActiveChange}
                    onOpenImage={onOpen}
                  />
                );
              })}
            </div>
          );
        })}
      </div>
    </div>
  );
}

interface ThumbProps {
  image: ImageSummary;
  index: number;
  width: number;
  tabbable: boolean;
  onFocusImage: (imageId: number) => void;
  onOpenImage: (imageId: number) => void;
}

/** Memoised: while scrolling, only thumbs entering the view render. */
const Thumb = memo(function Thumb({ image, index, width, tabbable, onFocusImage, onOpenImage }: ThumbProps) {
  return (
    <button
      type="button"
      role="gridcell"
      className="thumb"
      data-testid="thumb"
      data-image-id={image.id}
      data-corrected={image.correctedPixels > 0}
      data-index={index}
      data-split={image.split}
      data-has-labels={image.hasLabels}
      tabIndex={tabbable ? 0 : -1}
      style={{ width }}
      title={`${image.name} (${image.split}, ${image.city}, ${image.width}×${image.height})`}
      onFocus={() => onFocusImage(image.id)}
      onClick={() => onOpenImage(image.id)}
    >
      <span className="thumb__frame">
        <img loading="lazy" decoding="async" draggable={false} src={imageUrl(image.id, 'thumb')} alt={image.name} />
        {image.hasLabels && (
          <span className="thumb__badge" title="Has ground-truth labels">
            GT
          </span>
        )}
        <span className="thumb__split">{image.split}</span>
        {image.correctedPixels > 0 && (
          <span className="thumb__corrected" data-testid="thumb-corrected" title={`${image.correctedPixels.toLocaleString()} pixels corrected`}>
            ✎
          </span>
        )}
        {image.difficulty !== null && (
          <span className="thumb__difficulty" title="Difficulty score of the newest round (higher: the model is more likely wrong)">
            {image.difficulty.toFixed(2)}
          </span>
        )}
      </span>
      <span className="thumb__caption">
        <span className="thumb__city">{image.city}</span>
        <span className="thumb__name">{image.name}</span>
      </span>
    </button>
  );
});
