// A network's parameters as a PyTorch state dict names and shapes them, to match checkpoints against.
// The ParamStore keeps tfjs layouts (conv filters [kh, kw, in, out], depthwise [k, k, C, 1]); PyTorch keeps
// [out, in, kh, kw] and [C, 1, k, k]. Names already in PyTorch form (`.weight`, `.running_mean`, …) stay as
// they are; the project's own short suffixes (`.w`, `.scale`, `.mean`, …) become PyTorch's.
import type { CordaNetwork } from './network';
import type { ParamSpec } from './params';

const TORCH_SUFFIXES = ['weight', 'bias', 'running_mean', 'running_var'];
const SUFFIX_BY_KIND: Record<ParamSpec['kind'], string> = {
  weight: 'weight', bias: 'bias', 'bn-scale': 'weight', 'bn-offset': 'bias', 'bn-mean': 'running_mean', 'bn-var': 'running_var',
};

export function torchName(spec: ParamSpec): string {
  const dot = spec.name.lastIndexOf('.');
  const last = spec.name.slice(dot + 1);
  if (TORCH_SUFFIXES.includes(last)) return spec.name;
  return `${dot < 0 ? spec.name : spec.name.slice(0, dot)}.${SUFFIX_BY_KIND[spec.kind]}`;
}

export function torchShape(spec: ParamSpec): number[] {
  const s = spec.shape;
  if (spec.kind !== 'weight') return [...s];
  if (s.length === 4) return spec.name.endsWith('.dw') ? [s[2]!, s[3]!, s[0]!, s[1]!] : [s[3]!, s[2]!, s[0]!, s[1]!];
  if (s.length === 2) return [s[1]!, s[0]!];
  return [...s];
}

/** Every parameter of a built network under its PyTorch key, with its PyTorch shape. */
export function torchStateDictShapes(network: CordaNetwork): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const spec of network.params.specs.values()) shapes.set(torchName(spec), torchShape(spec));
  return shapes;
}
