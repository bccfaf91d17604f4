// What a machine without a GPU needs for WebGPU on SwiftShader, the software Vulkan driver Chromium ships:
// its ICD file (Debian's chromium-common puts vk_swiftshader_icd.json in /usr/lib/chromium/), the Vulkan
// loader (libvulkan1) and the optional npm package `webgpu`. Dawn reads VK_ICD_FILENAMES when it starts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const ICD_CANDIDATES = [
  '/usr/lib/chromium/vk_swiftshader_icd.json', // Debian chromium-common
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

export function findSwiftShaderIcd(): string | null {
  return ICD_CANDIDATES.find((path) => existsSync(path)) ?? null;
}

function hasVulkanLoader(): boolean {
  if (process.platform !== 'linux') return true; // Metal / D3D12 need no loader; SwiftShader is a Linux setup here
  const cache = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  if (cache.status === 0 && /\blibvulkan\.so\.1\b/.test(cache.stdout)) return true;
  return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((dir) => existsSync(`${dir}/libvulkan.so.1`));
}

function hasWebGpuPackage(): boolean {
  try {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url);
    req.resolve('webgpu/package.json');
    return true;
  } catch {
    return false;
  }
}

/** The ICD path to put in VK_ICD_FILENAMES, or what is missing, as one sentence saying what to install. */
export function swiftShaderSetup(): { icd: string } | { missing: string } {
  const missing: string[] = [];
  const icd = findSwiftShaderIcd();
  if (!icd) missing.push("Chromium's SwiftShader (apt-get install chromium; vk_swiftshader_icd.json in /usr/lib/chromium/)");
  if (!hasVulkanLoader()) missing.push('the Vulkan loader (apt-get install libvulkan1)');
  if (!hasWebGpuPackage()) missing.push('the optional npm package webgpu (npm install)');
  if (missing.length > 0 || !icd) return { missing: `WebGPU on SwiftShader needs ${missing.join(' and ')}.` };
  return { icd };
}
