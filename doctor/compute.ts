// `nas doctor`'s compute checks: the tfjs backends as `nas backend` loads them (wasm with our native kernels, cpu,
// tensorflow), the threads a search runs, and ONNX Runtime for the onnxruntime latency runner.
import { availableParallelism } from 'node:os';
import { type BackendInfo, useBackend } from '../backend/select.js';
import { maxWorkers } from '../search/engine/limits.js';
import { type DoctorCheck, firstLine, missing, ok } from './check.js';

const REINSTALL = 'npm install (in the nas directory: it installs the packages and builds the native kernels)';

const TENSORFLOW_FIX = 'npm install @tensorflow/tfjs-node-gpu on a machine with network access (its install downloads libtensorflow; README "GPU")';

/** The backends; `auto` is tried first, as every command does, so that tensorflow's status is the one `auto` finds. */
export async function backendChecks(): Promise<DoctorCheck[]> {
  const tensorflow = await tensorflowCheck();
  return [...(await wasmChecks()), await cpuCheck(), tensorflow];
}

async function tensorflowCheck(): Promise<DoctorCheck> {
  try {
    const t = (await useBackend('auto')).tensorflow;
    if (t.loaded) return ok('tensorflow backend', `${t.package ?? ''} ${t.version ?? ''} (libtensorflow: CPU or CUDA)`);
    return missing('tensorflow backend', t.reason ?? 'not loaded', TENSORFLOW_FIX);
  } catch (e) {
    return missing('tensorflow backend', firstLine(e), TENSORFLOW_FIX);
  }
}

async function wasmChecks(): Promise<DoctorCheck[]> {
  let info: BackendInfo;
  try {
    info = await useBackend('wasm');
  } catch (e) {
    return [missing('wasm backend', firstLine(e), REINSTALL, true)];
  }
  const simd = info.wasmSimd ? 'SIMD' : 'no SIMD';
  const wasm = ok('wasm backend', `tfjs-backend-wasm ${info.backendVersion} (tfjs ${info.tfjsVersion}), ${simd}, its own kernels on one thread`, true);
  const n = info.nativeKernels;
  const native = n.loaded
    ? ok('native kernels', `${n.version ?? ''}, ISA ${n.isa ?? '?'} (CPU: ${n.cpuIsa ?? '?'}; NAS_NATIVE_ISA lowers it)`, true)
    : missing('native kernels', n.reason ?? 'not loaded', 'npm run build (needs g++ and make: apt-get install build-essential)', true);
  return [wasm, native];
}

async function cpuCheck(): Promise<DoctorCheck> {
  try {
    const info = await useBackend('cpu');
    return ok('cpu backend', `tfjs ${info.tfjsVersion} (plain JavaScript: the reference in tests)`);
  } catch (e) {
    return missing('cpu backend', firstLine(e), REINSTALL);
  }
}

export function threadsCheck(): DoctorCheck {
  const cores = availableParallelism();
  const cap = maxWorkers(cores);
  return ok(
    'threads',
    `${cores} cores: a training's native kernels use them all by default (--threads); a search runs one evaluation worker per core ` +
      `by default (--workers), at most ${cap.max} (${cap.why}), the cores shared among them`,
    true,
  );
}

export async function onnxruntimeCheck(): Promise<DoctorCheck> {
  try {
    const ort = await import('onnxruntime-node');
    return ok('onnxruntime-node', `${ort.env.versions.node ?? '?'} (latency --runner onnxruntime, export checks)`);
  } catch (e) {
    return missing('onnxruntime-node', firstLine(e), 'npm install onnxruntime-node');
  }
}
