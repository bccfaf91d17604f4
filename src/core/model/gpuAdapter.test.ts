import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeAdapter, isSoftwareAdapter, roundBackendLabel, type GpuAdapter } from './gpuAdapter';
import { vulkanDriverListed } from './webgpu';

// What Dawn reported here (SwiftShader from Debian's chromium) and the shapes real GPUs report.
const swiftShader = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' };
const nvidia = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' };
const adapter = (info: typeof swiftShader, software: boolean): GpuAdapter => ({ ...info, software });

describe('GPU adapters', () => {
  it('tells software adapters from hardware ones', () => {
    expect(isSoftwareAdapter(swiftShader)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'unknown', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'unknown' }, true)).toBe(true);
    expect(isSoftwareAdapter(nvidia)).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3', description: '' })).toBe(false);
  });

  it('names the adapter in a few words', () => {
    expect(describeAdapter(adapter(swiftShader, true))).toBe('SwiftShader (software)');
    expect(describeAdapter(adapter(nvidia, false))).toBe('NVIDIA H100 80GB HBM3 (nvidia hopper)');
    expect(describeAdapter(adapter({ vendor: 'apple', architecture: 'metal-3', device: '', description: '' }, false))).toBe('apple metal-3');
    expect(describeAdapter(adapter({ vendor: '', architecture: '', device: '', description: '' }, false))).toBe('unknown adapter');
  });

  it("labels a round's stored backend for the rounds panel", () => {
    expect(roundBackendLabel(null)).toBeNull();
    expect(roundBackendLabel({ name: 'wasm', detail: '…', simd: true } as never)).toBe('wasm');
    expect(roundBackendLabel({ name: 'webgpu', adapter: adapter(swiftShader, true) })).toBe('webgpu · SwiftShader (software)');
  });
});

describe.skipIf(process.platform !== 'linux')('vulkanDriverListed', () => {
  it('finds a driver manifest in the folders the Vulkan loader searches, or an env override', () => {
    const home = mkdtempSync(join(tmpdir(), 'corda-vulkan-'));
    try {
      expect(vulkanDriverListed({ VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' })).toBe(true);
      mkdirSync(join(home, '.local', 'share', 'vulkan', 'icd.d'), { recursive: true });
      writeFileSync(join(home, '.local', 'share', 'vulkan', 'icd.d', 'nvidia_icd.json'), '{}');
      expect(vulkanDriverListed({ HOME: home })).toBe(true);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
