// Loads the native kernel addon built by `npm install` (node-gyp, backend/native). The wasm backend's training
// kernels call it on the wasm heap; without it the wasm backend can run inference but not train.
// binding.gyp builds it once per instruction-set level; the best level the CPU runs is loaded, or a lower one
// forced with NAS_NATIVE_ISA (e.g. baseline, to check the portable build on a machine with AVX2).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NasError } from '../common/errors.js';

/** Functions of the addon. Each kernel file declares the functions it calls through `nativeFn`. */
export type NativeAddon = Readonly<Record<string, unknown>> & { version(): string; isa(): string; cpuIsa(): string };

/** The addon builds (binding.gyp), lowest level first; baseline runs on any CPU the compiler targets. */
export const nativeIsaLevels = ['baseline', 'avx2', 'avx512'] as const;
export type NativeIsa = (typeof nativeIsaLevels)[number];

const buildDir = new URL('../../backend/native/build/Release/', import.meta.url);

function addonPath(isa: NativeIsa): string {
  return fileURLToPath(new URL(isa === 'baseline' ? 'nas_kernels.node' : `nas_kernels_${isa}.node`, buildDir));
}

/** The level to load: the CPU's best, lowered to NAS_NATIVE_ISA when that is set (never raised past the CPU). */
export function chooseNativeIsa(cpuIsa: string, requested: string | undefined): NativeIsa {
  const rank = (isa: string): number => nativeIsaLevels.indexOf(isa as NativeIsa);
  const cpu = Math.max(0, rank(cpuIsa));
  if (requested === undefined || requested === '') return nativeIsaLevels[cpu]!;
  if (rank(requested) < 0) {
    throw new NasError('E_USAGE', `NAS_NATIVE_ISA must be one of ${nativeIsaLevels.join(', ')}, got '${requested}'`);
  }
  return nativeIsaLevels[Math.min(cpu, rank(requested))]!;
}

function loadAddon(): NativeAddon {
  const load = createRequire(import.meta.url);
  const baseline = load(addonPath('baseline')) as NativeAddon;
  const isa = chooseNativeIsa(baseline.cpuIsa(), process.env['NAS_NATIVE_ISA']);
  return isa === 'baseline' ? baseline : (load(addonPath(isa)) as NativeAddon);
}

let cached: NativeAddon | null = null;
let loadError: string | null = null;

/** The addon, or a NasError('E_NATIVE') that says how to build it (E_USAGE for a bad NAS_NATIVE_ISA). */
export function nativeAddon(): NativeAddon {
  if (cached) return cached;
  if (loadError === null) {
    try {
      cached = loadAddon();
      return cached;
    } catch (e) {
      if (e instanceof NasError) throw e;
      loadError = e instanceof Error ? e.message.split('\n')[0] ?? String(e) : String(e);
    }
  }
  throw new NasError('E_NATIVE', `native kernels not loaded (${loadError}); build them with: npm run build`, 1);
}

export type NativeStatus =
  | { loaded: true; version: string; isa: string; cpuIsa: string }
  | { loaded: false; reason: string };

/** Whether the addon loads, its version and instruction-set level (and the CPU's best); the reason when not. */
export function nativeStatus(): NativeStatus {
  try {
    const addon = nativeAddon();
    return { loaded: true, version: addon.version(), isa: addon.isa(), cpuIsa: addon.cpuIsa() };
  } catch (e) {
    return { loaded: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/** One typed function of the addon, e.g. nativeFn<(heap: ArrayBuffer, ...) => void>('conv2dBackpropFilter'). */
export function nativeFn<F extends (...args: never[]) => unknown>(name: string): F {
  const fn = nativeAddon()[name];
  if (typeof fn !== 'function') {
    throw new NasError('E_NATIVE', `native kernels lack '${name}': rebuild them with: npm run build`, 1);
  }
  return fn as F;
}

/** The thread count of the native kernels called from this JS thread (a pool per thread: threads.cc). */
export function setNativeThreads(n: number): void {
  nativeFn<(n: number) => void>('setThreads')(n);
}

/** The thread count the native kernels called from this JS thread split their work over. */
export function nativeThreads(): number {
  return nativeFn<() => number>('threads')();
}

/** Kernel calls that have split into more than one part since the addon loaded (tests check that a shape splits). */
export function nativeForks(): number {
  return nativeFn<() => number>('forks')();
}

/** setNativeThreads where the addon loads (a worker's backend may be tensorflow, without it); whether it did. */
export function setNativeThreadsIfLoaded(n: number): boolean {
  if (!nativeStatus().loaded) return false;
  setNativeThreads(n);
  return true;
}
