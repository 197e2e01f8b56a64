// Loads the native kernel addon built by `npm install` (node-gyp, backend/native). The wasm backend's training
// kernels call it on the wasm heap; without it the wasm backend can run inference but not train.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NasError } from '../common/errors.js';

/** Functions of the addon. Each kernel file declares the functions it calls through `nativeFn`. */
export type NativeAddon = Readonly<Record<string, unknown>> & { version(): string };

const addonPath = fileURLToPath(new URL('../../backend/native/build/Release/nas_kernels.node', import.meta.url));

let cached: NativeAddon | null = null;
let loadError: string | null = null;

/** The addon, or a NasError('E_NATIVE') that says how to build it. */
export function nativeAddon(): NativeAddon {
  if (cached) return cached;
  if (loadError === null) {
    try {
      cached = createRequire(import.meta.url)(addonPath) as NativeAddon;
      return cached;
    } catch (e) {
      loadError = e instanceof Error ? e.message.split('\n')[0] ?? String(e) : String(e);
    }
  }
  throw new NasError('E_NATIVE', `native kernels not loaded (${loadError}); build them with: npm run build`, 1);
}

/** Whether the addon loads; the reason when it does not. */
export function nativeStatus(): { loaded: true; version: string } | { loaded: false; reason: string } {
  try {
    return { loaded: true, version: nativeAddon().version() };
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
