// The network a round's configuration describes (preset, method, seed and the depth heads' scale).
import { CordaNetwork, PRESETS } from '../model/network';
import type { RoundConfig } from './config';

/** depthScale 0 means "not resolved yet"; a round resolves it before training (resolveDepthScale). */
export const resolvedDepthScale = (config: Pick<RoundConfig, 'depthScale'>): number => (config.depthScale > 0 ? config.depthScale : 1);

export function networkFor(config: Pick<RoundConfig, 'preset' | 'method' | 'seed' | 'depthScale'>): CordaNetwork {
  return new CordaNetwork(PRESETS[config.preset], config.method, config.seed, resolvedDepthScale(config)).build();
}
