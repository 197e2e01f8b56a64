// The stock tfjs-backend-wasm kernels that ours replaced, by kernel name: register.ts records them when it
// installs ours (and puts them back for comparisons); our kernels run them for attributes they do not support.
import * as tf from '@tensorflow/tfjs';

const stockKernels = new Map<string, tf.KernelConfig>();

/** Records the stock kernel before ours replaces it (the first one seen per name is kept). */
export function rememberStockKernel(config: tf.KernelConfig): void {
  if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, config);
}

export function stockKernel(kernelName: string): tf.KernelConfig | undefined {
  return stockKernels.get(kernelName);
}

/**
 * For attributes our kernels do not support: runs the stock kernel this one replaced, if there is one, or
 * throws an error that says what is unsupported.
 */
export function stockOrThrow(kernel: string, reason: string, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const stock = stockKernel(kernel);
  if (!stock) throw new Error(`${kernel} (wasm, native kernel): ${reason}`);
  // tfjs runs setupFunc only for kernels registered when the backend became active: ours may have replaced
  // this one before that. Setting up again is cheap (it looks up the wasm export).
  stock.setupFunc?.(args.backend);
  return stock.kernelFunc(args) as tf.TensorInfo;
}
