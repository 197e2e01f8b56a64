// Packages that only some commands use (the queue's bullmq and ioredis, sharp's image decoding, onnx-proto) are
// loaded on first use rather than when the CLI starts: imported eagerly they took about half a second of every `nas`
// command's start (measured: `nas --help` 1.3 s), spent lexing their CommonJS for ESM named exports.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A function that loads the package `name` (CommonJS) on its first call and returns it; `T` is its `typeof import`. */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
