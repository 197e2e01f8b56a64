// The latency page: tfjs (wasm or webgl), or onnxruntime-web (ortWeb.ts), inside headless Chromium, driven by the browser runner (runners/browser.ts)
// through `globalThis.nasLatency`. It builds the same models as the node runner (entryModels.ts, model/build.ts)
// from JSON and times them with the same loop (timing.ts). Bundled by web/build.mjs to dist/web/latency/page.js.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { resolve } from '../../space/resolve.js';
import { entryInput, entryModel, wholeModel } from '../entryModels.js';
import { prepareBuilt, timeBuilt } from '../timing.js';
import { closePrepared, hold, timePrepared } from './held.js';
import { initOrtWeb, measureOnnx, onnxParity, openOnnx, prepareOnnx } from './ortWeb.js';
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

/** tfjs on `backend` (wasm: `threads` threads; 1 takes the non-threaded SIMD binary, as in Node). */
async function initTfjs(backend: 'wasm' | 'webgl', req: PageInit): Promise<void> {
  tf.env().set('PROD', true);
  if (backend === 'wasm') {
    setWasmPaths(req.wasmPath);
    // More than one thread takes the threaded binary (needs cross-origin isolation; with tfjs 4.22 it starts but
    // keeps one thread, so the runner asks for one).
    if (req.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else setThreadsCount(req.threads);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(backend);
  } catch {
    ok = false;
  }
  if (!ok) {
    const why = backend === 'webgl' ? ' (no WebGL context: no GPU, and software WebGL is off); use --backend wasm' : '';
    throw new Error(`backend ${backend} is unavailable in this headless Chromium${why}`);
  }
  await tf.ready();
}

async function init(req: PageInit): Promise<PageReady> {
  const isolated = Boolean((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated);
  // The ort-web engine keeps tfjs on wasm beside it, to compare outputs (onnxParity).
  await initTfjs(req.backend === 'webgl' ? 'webgl' : 'wasm', req);
  if (req.backend === 'ort-web') {
    const ort = initOrtWeb(req.ortWasmPath, req.threads);
    return { backend: 'ort-web', threads: ort.threads, wasmSimd: true, renderer: null, crossOriginIsolated: isolated, ortVersion: ort.version };
  }
  const wasm = req.backend === 'wasm';
  return {
    backend: tf.getBackend(),
    threads: wasm ? getThreadsCount() : null,
    wasmSimd: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null,
    renderer: wasm ? null : webglRenderer(),
    crossOriginIsolated: isolated,
    ortVersion: null,
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
  measureArchs: (req) => timeBuilt(req.archs, (spec) => wholeModel(spec, req.seed), req),
  prepareArchs: (req) => hold(prepareBuilt(req.archs, (spec) => wholeModel(spec, req.seed))),
  openOnnx,
  measureOnnx,
  prepareOnnx,
  timePrepared,
  closePrepared,
  onnxParity,
};

(globalThis as { nasLatency?: LatencyPageApi }).nasLatency = api;
