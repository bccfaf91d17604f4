import { describe, expect, it } from 'vitest';
import {
  IGNORE,
  LABEL_ID_TO_TRAIN_ID,
  PROTOCOL_CLASSES,
  SYNTHIA_ID_TO_TRAIN_ID,
  TRAIN_CLASSES,
  colorizeTrainIds,
  labelIdsToTrainIds,
  synthiaIdsToTrainIds,
  trainIdsToLabelIds,
} from './labels';

describe('Cityscapes label maps', () => {
  it('has the 19 training classes in trainId order with the official ids and palette', () => {
    expect(TRAIN_CLASSES.map((c) => c.trainId)).toEqual([...Array(19).keys()]);
    expect(TRAIN_CLASSES.map((c) => c.labelId)).toEqual([7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33]);
    expect(TRAIN_CLASSES[0]).toMatchObject({ name: 'road', color: [128, 64, 128] });
    expect(TRAIN_CLASSES[13]).toMatchObject({ name: 'car', color: [0, 0, 142] });
    expect(new Set(TRAIN_CLASSES.map((c) => c.color.join())).size).toBe(19);
  });

  it('maps labelIds to trainIds and every other id to ignore', () => {
    expect(labelIdsToTrainIds([7, 8, 26, 33, 0, 1, 6, 34, 255])).toEqual(new Uint8Array([0, 1, 13, 18, 255, 255, 255, 255, 255]));
    const mapped = [...LABEL_ID_TO_TRAIN_ID].filter((v) => v !== IGNORE);
    expect(mapped.sort((a, b) => a - b)).toEqual([...Array(19).keys()]);
  });

  it('round-trips trainIds through labelIds', () => {
    const trainIds = new Uint8Array([...Array(19).keys(), 255]);
    expect(labelIdsToTrainIds(trainIdsToLabelIds(trainIds))).toEqual(trainIds);
    expect(trainIdsToLabelIds([255])[0]).toBe(0);
  });

  it('maps SYNTHIA ids per DATASETS.md', () => {
    expect(synthiaIdsToTrainIds([3, 4, 2, 1, 8, 10, 0, 13, 22, 300])).toEqual(new Uint8Array([0, 1, 2, 10, 13, 11, 255, 255, 255, 255]));
    expect([...SYNTHIA_ID_TO_TRAIN_ID].filter((v) => v !== IGNORE)).toHaveLength(19);
  });

  it('colourises trainIds in the palette with transparent ignore pixels', () => {
    const rgba = colorizeTrainIds([0, 255, 10], 200);
    expect([...rgba]).toEqual([128, 64, 128, 200, 0, 0, 0, 0, 70, 130, 180, 200]);
  });

  it('defines the 19-, 16- and 13-class protocols', () => {
    expect(PROTOCOL_CLASSES[19]).toHaveLength(19);
    expect(PROTOCOL_CLASSES[16]).toHaveLength(16);
    expect(PROTOCOL_CLASSES[13]).toHaveLength(13);
    expect(PROTOCOL_CLASSES[16]).not.toContain(9);
    expect(PROTOCOL_CLASSES[13]).not.toContain(5);
  });
});
