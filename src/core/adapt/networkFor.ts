// The network a round's configuration describes (preset and its variant, method, seed and the depth heads' scale).
import { CordaNetwork, presetWith } from '../model/network';
import type { RoundConfig } from './config';

/** depthScale 0 means "not resolved yet"; a round resolves it before training (resolveDepthScale). */
export const resolvedDepthScale = (config: Pick<RoundConfig, 'depthScale'>): number => (config.depthScale > 0 ? config.depthScale : 1);

export function networkFor(config: Pick<RoundConfig, 'preset' | 'method' | 'seed' | 'depthScale'> & Partial<Pick<RoundConfig, 'variant' | 'backboneBatchStats'>>): CordaNetwork {
  const preset = presetWith(config.preset, { variant: config.variant, backboneBatchStats: config.backboneBatchStats });
  return new CordaNetwork(preset, config.method, config.seed, resolvedDepthScale(config)).build();
}
