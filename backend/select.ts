// Backend choice for every command that computes: `auto` takes the tensorflow backend (libtensorflow, CPU or CUDA)
// when @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node loads, else wasm with our training kernels; `cpu` is
// tfjs's plain JavaScript backend, the reference in tests.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { NasError } from '../common/errors.js';
import { guardWasmHeap } from './heapGuard.js';
import { registerFusedOpKernels } from './ops/kernels.js';
import { registerWasmTrainingKernels } from './kernels/register.js';
import { type BackendChoice, type BackendName } from './choices.js';
import { nativeStatus, nativeThreads, setNativeThreads } from './native.js';

export { backendChoices, type BackendChoice, type BackendName } from './choices.js';

export interface TensorflowStatus {
  readonly loaded: boolean;
  /** The package that loaded, or null. */
  readonly package: string | null;
  readonly version: string | null;
  /** Why it did not load (null when it did). */
  readonly reason: string | null;
}

export interface BackendInfo {
  readonly requested: BackendChoice;
  readonly name: BackendName;
  readonly tfjsVersion: string;
  /** Version of the package behind the backend (tfjs-backend-wasm, tfjs-node(-gpu), or tfjs for cpu). */
  readonly backendVersion: string;
  /**
   * Threads the backend computes with (wasm: those of our native kernels, which do the training and inference
   * arithmetic; tfjs's own wasm kernels run on one; tensorflow: null, libtensorflow decides).
   */
  readonly threads: number | null;
  readonly wasmSimd: boolean | null;
  readonly nativeKernels: NativeKernelsInfo;
  readonly tensorflow: TensorflowStatus;
}

export interface NativeKernelsInfo {
  readonly loaded: boolean;
  readonly version: string | null;
  /** The instruction-set level of the loaded addon (baseline, avx2, avx512) and the best this CPU runs. */
  readonly isa: string | null;
  readonly cpuIsa: string | null;
  readonly reason: string | null;
}

const tensorflowPackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let tensorflowStatus: TensorflowStatus | null = null;

/** Try the tensorflow packages once; registers the 'tensorflow' backend with tfjs when one loads. */
async function loadTensorflow(): Promise<TensorflowStatus> {
  if (tensorflowStatus) return tensorflowStatus;
  const reasons: string[] = [];
  for (const pkg of tensorflowPackages) {
    try {
      const mod = (await import(pkg)) as { version?: Record<string, string> };
      const version = mod.version?.['tfjs-node'] ?? null;
      tensorflowStatus = { loaded: true, package: pkg, version, reason: null };
      return tensorflowStatus;
    } catch (e) {
      const code = (e as { code?: string }).code;
      const message = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
      reasons.push(
        code === 'ERR_MODULE_NOT_FOUND' && message.includes(pkg)
          ? `${pkg} is not installed (its install step downloads libtensorflow, which needs network access; see README "GPU")`
          : `${pkg} failed to load: ${message}`,
      );
    }
  }
  tensorflowStatus = { loaded: false, package: null, version: null, reason: reasons.join('; ') };
  return tensorflowStatus;
}

/**
 * Select and initialise a backend. On wasm, `threads` is the thread count of our native kernels for this JS thread
 * (kept until changed; 1 at first: library calls and latency runners compute on one core unless asked), and tfjs's
 * own wasm kernels stay single-threaded (its threaded build does not start in Node).
 */
export async function useBackend(requested: BackendChoice, opts: { threads?: number } = {}): Promise<BackendInfo> {
  tf.env().set('PROD', true); // no console banners or debug checks
  const tensorflow =
    requested === 'cpu' || requested === 'wasm'
      ? (tensorflowStatus ?? notTried(requested))
      : await loadTensorflow();
  let name: BackendName;
  if (requested === 'auto') name = tensorflow.loaded ? 'tensorflow' : 'wasm';
  else name = requested;

  if (name === 'tensorflow' && !tensorflow.loaded) {
    throw new NasError('E_BACKEND', `backend tensorflow is not available: ${tensorflow.reason}; use --backend wasm`);
  }
  if (name === 'wasm') {
    setThreadsCount(1); // tfjs's own kernels: its threaded build does not start in Node
    registerWasmTrainingKernels();
    if (opts.threads !== undefined) setNativeThreads(opts.threads);
    registerFusedOpKernels();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new NasError('E_BACKEND', `backend ${name} failed to initialise`);
  await tf.ready();
  if (name === 'wasm') guardWasmHeap();
  return describeBackend(requested, tensorflow);
}

/** The backend this process computes with and its thread count: for a worker thread to compute exactly as it does. */
export function chosenBackend(): { readonly backend: BackendName; readonly threads: number | null } {
  const name = tf.getBackend();
  if (name !== 'wasm' && name !== 'tensorflow' && name !== 'cpu') throw new NasError('E_BACKEND', `no nas backend is chosen (tfjs has ${name})`);
  return { backend: name, threads: name === 'wasm' ? nativeThreads() : null };
}

/** libtensorflow is heavy to load: when another backend was asked for, it is not tried. */
function notTried(requested: BackendChoice): TensorflowStatus {
  return { loaded: false, package: null, version: null, reason: `not tried: --backend ${requested} was requested` };
}

/** The native kernels' threads (tfjs-wasm's own count when the addon did not load). */
function wasmKernelThreads(nativeLoaded: boolean): number {
  return nativeLoaded ? nativeThreads() : getThreadsCount();
}

async function describeBackend(requested: BackendChoice, tensorflow: TensorflowStatus): Promise<BackendInfo> {
  const name = tf.getBackend() as BackendName;
  const native = nativeStatus();
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null;
  return {
    requested,
    name,
    tfjsVersion: tf.version.tfjs,
    backendVersion:
      name === 'wasm' ? version_wasm : name === 'tensorflow' ? (tensorflow.version ?? 'unknown') : tf.version.tfjs,
    threads: name === 'wasm' ? wasmKernelThreads(native.loaded) : name === 'cpu' ? 1 : null,
    wasmSimd: simd,
    nativeKernels: native.loaded
      ? { loaded: true, version: native.version, isa: native.isa, cpuIsa: native.cpuIsa, reason: null }
      : { loaded: false, version: null, isa: null, cpuIsa: null, reason: native.reason },
    tensorflow,
  };
}
