import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../shared/api';
import { currentBackend, describeBackend, initBackend, wasmBinaryDir, type BackendInfo } from './backend';
import { projectKernelsRegistered } from './kernels';
import { vulkanDriverListed } from './webgpu';

const nativeAvailable = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

describe('initBackend', () => {
  it('finds the wasm binaries, and the wasm and cpu packages register on the same tfjs-core', () => {
    expect(existsSync(join(wasmBinaryDir(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
    expect(tf.findBackendFactory('wasm')).toBeTruthy();
    expect(tf.findBackendFactory('cpu')).toBeTruthy();
  });

  // Where a Vulkan driver is listed (or on macOS and Windows) webgpu may come before wasm: this test does not apply.
  it.skipIf(nativeAvailable || vulkanDriverListed())('falls through the absent native packages and a missing GPU to wasm, logs why, and is idempotent', async () => {
    const lines: string[] = [];
    const listeners = () => process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const listenersBefore = listeners();
    const info = await initBackend(undefined, (l) => lines.push(l));
    expect(listeners()).toBe(listenersBefore); // emscripten's rethrowing process handlers are removed
    expect(info).toMatchObject({ name: 'wasm', tfjsBackend: 'wasm', simd: true, threads: 1 });
    expect(tf.getBackend()).toBe('wasm');
    expect(lines[0]).toMatch(/tensorflow-gpu unavailable \(Cannot find module '@tensorflow\/tfjs-node-gpu'/);
    // No hardware adapter: none at all, only a software one (VK_ICD_FILENAMES at SwiftShader), or no package.
    expect(lines[1]).toMatch(/^backend: webgpu unavailable \((no Vulkan driver is installed|Dawn found no GPU adapter|the only adapter is .* \(software\)|the optional package "webgpu" is not installed)/);
    expect(lines[2]).toMatch(/tensorflow unavailable/);
    expect(lines[3]).toBe('backend: wasm (SIMD, 1 thread) [@tensorflow/tfjs-backend-wasm 4.22.0, SIMD, 1 thread]');
    expect(projectKernelsRegistered()).toBe(true);
    expect(await initBackend()).toBe(info);
    expect(await initBackend('wasm')).toBe(info);
    expect(currentBackend()).toBe(info);
  });

  it('switches to an explicitly requested backend and back', async () => {
    const cpu = await initBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', tfjsBackend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    const wasm = await initBackend('wasm');
    expect(wasm.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it.skipIf(nativeAvailable)('throws a UserError that says why and what to do for an unavailable backend', async () => {
    for (const name of ['tensorflow', 'tensorflow-gpu'] as const) {
      const err = await initBackend(name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(new RegExp(`^The ${name} backend is unavailable \\(Cannot find module`));
      expect((err as Error).message).toMatch(/choose --backend wasm\.$/);
    }
    await expect(initBackend('gpu' as never)).rejects.toThrow(/Unknown backend "gpu"/);
    expect(tf.getBackend()).toBe('wasm'); // a failed request leaves the current backend alone
  });

  it('describes backends briefly', () => {
    const b = (info: Partial<BackendInfo>) => describeBackend({ tfjsBackend: 'x', detail: '', ...info } as BackendInfo);
    expect(b({ name: 'wasm', simd: true, threads: 1 })).toBe('wasm (SIMD, 1 thread)');
    expect(b({ name: 'wasm', simd: false, threads: 4 })).toBe('wasm (no SIMD, 4 threads)');
    expect(b({ name: 'cpu' })).toBe('cpu (JavaScript)');
    expect(b({ name: 'tensorflow' })).toBe('tensorflow (libtensorflow, CPU)');
    expect(b({ name: 'tensorflow-gpu' })).toBe('tensorflow-gpu (libtensorflow, CUDA)');
    const swiftShader = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', software: true };
    expect(b({ name: 'webgpu', adapter: swiftShader })).toBe('webgpu · SwiftShader (software)');
  });

  it('initialises its own wasm backend inside a worker_thread and trains a conv there', async () => {
    const backendPath = join(__dirname, 'backend.ts');
    const code = `
      require('tsx/cjs');
      const { parentPort } = require('node:worker_threads');
      const { initBackend } = require(${JSON.stringify(backendPath)});
      const tf = require('@tensorflow/tfjs-core');
      initBackend().then((info) => {
        const x = tf.ones([1, 8, 6, 3]);
        const w = tf.ones([3, 3, 3, 4]);
        const g = tf.grad((f) => tf.sum(tf.conv2d(x, f, 2, 'same')))(w);
        parentPort.postMessage({ name: info.name, backend: tf.getBackend(), sum: g.sum().dataSync()[0] });
      }).catch((e) => parentPort.postMessage({ error: String(e && e.message) }));
    `;
    const worker = new Worker(code, { eval: true });
    try {
      const msg = await new Promise<Record<string, unknown>>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(msg.error).toBeUndefined();
      expect(msg.backend).toBe(nativeAvailable ? 'tensorflow' : 'wasm');
      // Each of the 4 filters sees, per tap, the sum of x over the output grid it covers: 3 channels x taps.
      const ref = await (async () => {
        await tf.setBackend('cpu');
        return tf.tidy(() => {
          const x = tf.ones([1, 8, 6, 3]);
          const g = tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same')))(tf.ones([3, 3, 3, 4]));
          return tf.sum(g).dataSync()[0];
        });
      })();
      await tf.setBackend('wasm');
      expect(msg.sum).toBeCloseTo(ref!, 3);
    } finally {
      await worker.terminate();
    }
  });
});
