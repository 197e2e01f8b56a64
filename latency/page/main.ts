// The latency page: tfjs (wasm or webgl) inside headless Chromium, driven by the browser runner (runners/browser.ts)
// through `globalThis.nasLatency`. It builds the same models as the node runner (entryModels.ts, model/build.ts)
// from JSON and times them with the same loop (timing.ts). Bundled by web/build.mjs to dist/web/latency/page.js.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { buildModel } from '../../model/build.js';
import { resolve } from '../../space/resolve.js';
import { entryInput, entryModel } from '../entryModels.js';
import { timeBuilt } from '../timing.js';
import type { LatencyPageApi, PageInit, PageReady } from './protocol.js';

const UNMASKED_RENDERER_WEBGL = 0x9246;

interface GlLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
}

function webglRenderer(): string | null {
  const gl = (tf.backend() as unknown as { gpgpu?: { gl?: GlLike } }).gpgpu?.gl;
  if (gl === undefined) return null;
  const named = gl.getExtension('WEBGL_debug_renderer_info') !== null;
  return String(gl.getParameter(named ? UNMASKED_RENDERER_WEBGL : 0x1f01 /* RENDERER */));
}

async function init(req: PageInit): Promise<PageReady> {
  tf.env().set('PROD', true);
  if (req.backend === 'wasm') {
    setWasmPaths(req.wasmPath);
    // One thread: the non-threaded SIMD binary, as in Node. More: the threaded binary (needs cross-origin isolation;
    // with tfjs 4.22 it starts but keeps one thread, so the runner asks for one).
    if (req.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else setThreadsCount(req.threads);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(req.backend);
  } catch {
    ok = false;
  }
  if (!ok) {
    const why = req.backend === 'webgl' ? ' (no WebGL context: no GPU, and software WebGL is off); use --backend wasm' : '';
    throw new Error(`backend ${req.backend} is unavailable in this headless Chromium${why}`);
  }
  await tf.ready();
  const wasm = req.backend === 'wasm';
  return {
    backend: tf.getBackend(),
    threads: wasm ? getThreadsCount() : null,
    wasmSimd: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null,
    renderer: wasm ? null : webglRenderer(),
    crossOriginIsolated: Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated),
  };
}

const api: LatencyPageApi = {
  init,
  measureEntries: (req) =>
    timeBuilt(
      req.entries,
      (e) => {
        const a = resolve(e.arch);
        return { model: entryModel(a, e.piece), input: entryInput(a, e.piece), readBack: 'one' };
      },
      req,
    ),
  measureArchs: (req) =>
    timeBuilt(
      req.archs,
      (spec) => {
        const a = resolve(spec);
        return { model: buildModel(a, { seed: req.seed, folded: true }), input: [a.inputSize, a.inputSize, a.inputChannels] };
      },
      req,
    ),
};

(globalThis as { nasLatency?: LatencyPageApi }).nasLatency = api;
