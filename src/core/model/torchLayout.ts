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

/** torchvision's MobileNetV2 `features.N` sub-keys → the Keras layer suffix `small` names them by. */
const TORCHVISION_BLOCK_PARTS: Record<string, string> = {
  'conv.0.0': '_expand',
  'conv.0.1': '_expand_BN',
  'conv.1.0': '_depthwise',
  'conv.1.1': '_depthwise_BN',
  'conv.2': '_project',
  'conv.3': '_project_BN',
};
/** Block 0 (`expanded_conv`) has no expansion layer, so torchvision numbers its parts one lower. */
const TORCHVISION_FIRST_BLOCK_PARTS: Record<string, string> = {
  'conv.0.0': '_depthwise',
  'conv.0.1': '_depthwise_BN',
  'conv.1': '_project',
  'conv.2': '_project_BN',
};

/**
 * torchvision's ImageNet MobileNetV2 (`features.0` … `features.18`, `classifier`) under the PyTorch names of the
 * `small` encoder, which keeps Keras's layer names (`Conv1`, `expanded_conv_*`, `block_1_expand`, …): features.0 is
 * Conv1 / bn_Conv1, features.1 is expanded_conv, features.N (2..13) is block_(N-1). What `small` leaves out (blocks
 * 13 to 16, the last 1x1 convolution and the classifier) keeps its name and so reads as unexpected. Any other state
 * dict comes back as it is; `renamed` says whether this one was torchvision's.
 */
export function withSmallEncoderNames<T>(tensors: Map<string, T>): { tensors: Map<string, T>; renamed: boolean } {
  if (!tensors.has('features.0.0.weight') || !tensors.has('features.1.conv.0.0.weight')) return { tensors, renamed: false };
  const renamed = new Map<string, T>();
  for (const [key, tensor] of tensors) renamed.set(smallEncoderName(key) ?? key, tensor);
  return { tensors: renamed, renamed: true };
}

function smallEncoderName(key: string): string | null {
  const m = /^features\.(\d+)\.(.+)\.([a-z_]+)$/.exec(key);
  if (!m) return null;
  const [, indexText, part, suffix] = m as unknown as [string, string, string, string];
  const index = Number(indexText);
  if (index === 0) return part === '0' ? `enc.Conv1.${suffix}` : part === '1' ? `enc.bn_Conv1.${suffix}` : null;
  if (index === 1) return TORCHVISION_FIRST_BLOCK_PARTS[part] ? `enc.expanded_conv${TORCHVISION_FIRST_BLOCK_PARTS[part]}.${suffix}` : null;
  if (index > 13) return null;
  const layer = TORCHVISION_BLOCK_PARTS[part];
  return layer ? `enc.block_${index - 1}${layer}.${suffix}` : null;
}
