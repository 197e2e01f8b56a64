// Registers our native training kernels for the 'wasm' backend, so that it can train convolutional nets fast:
// tfjs-backend-wasm has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or
// DepthwiseConv2dNativeBackpropInput, a slow Conv2DBackpropInput, forward Conv2D/DepthwiseConv2dNative kernels
// (XNNPACK) that rebuild an operator whenever the filter tensor is new (every training step), a BatchMatMul that
// is slow with transposed operands (every dense layer's gradient), an Identity that copies, and a one-thread Add.
// Stock kernels are unregistered first (tfjs keeps one kernel per name and backend).
import * as tf from '@tensorflow/tfjs';
// The stock kernels must be registered before ours replace them: importing the package registers them all.
import '@tensorflow/tfjs-backend-wasm';
import { nativeAddon } from '../native.js';
import { rememberStockKernel, stockKernel } from './stockKernels.js';
import { addConfig } from './add.js';
import { batchMatMulConfig } from './batchMatMul.js';
import { conv2dConfig } from './conv2d.js';
import { conv2dBackpropFilterConfig } from './conv2dBackpropFilter.js';
import { conv2dBackpropInputConfig } from './conv2dBackpropInput.js';
import { depthwiseBackpropFilterConfig } from './depthwiseBackpropFilter.js';
import { depthwiseBackpropInputConfig } from './depthwiseBackpropInput.js';
import { depthwiseConv2dConfig } from './depthwiseConv2d.js';
import { identityConfig } from './identity.js';

/** Our kernels for the 'wasm' backend. */
export const wasmTrainingKernelConfigs: readonly tf.KernelConfig[] = [
  addConfig,
  batchMatMulConfig,
  conv2dConfig,
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseConv2dConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  identityConfig,
];

/**
 * Registers the kernels (idempotent). Throws NasError('E_NATIVE') saying how to build the addon when it does
 * not load, before touching the registry.
 */
export function registerWasmTrainingKernels(): void {
  nativeAddon();
  for (const config of wasmTrainingKernelConfigs) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) {
      rememberStockKernel(current);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
}

/** Puts the stock kernels back (for comparisons); ours that had no stock counterpart are removed. */
export function unregisterWasmTrainingKernels(): void {
  for (const config of wasmTrainingKernelConfigs) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc !== config.kernelFunc) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    const stock = stockKernel(config.kernelName);
    if (!stock) continue;
    tf.registerKernel(stock);
    // tfjs runs setupFunc when a backend becomes active; the stock kernel may have been replaced before that.
    const backend = (tf.engine() as unknown as { registry: Record<string, tf.KernelBackend | undefined> }).registry['wasm'];
    if (backend && stock.setupFunc) stock.setupFunc(backend);
  }
}

/** Whether our kernels are the registered ones. */
export function wasmTrainingKernelsRegistered(): boolean {
  return wasmTrainingKernelConfigs.every((c) => tf.getKernel(c.kernelName, 'wasm')?.kernelFunc === c.kernelFunc);
}
