// The architecture IR: plain, readonly, JSON-serialisable data with no tfjs import. Search spaces, the builder,
// the cost model, latency tables and NetAdapt all read it (through `resolve`), never a tfjs model.

/** Activation after a conv + BN. `relu6` is MobileNetV2's; `hswish` is x * ReLU6(x + 3) / 6. */
export type Activation = 'relu' | 'relu6' | 'hswish';

/**
 * Padding convention. `symmetric`: pad k//2 on every side (PyTorch, torchvision weights).
 * `same`: TF/Keras 'same', asymmetric for stride 2 (TF weights).
 */
export type Padding = 'symmetric' | 'same';

/**
 * Squeeze-and-excite. MobileNetV3: reduce to makeDivisible(ratio * expanded, 8), ReLU, expand, hard-sigmoid.
 * MnasNet: reduce to max(1, floor(ratio * block input)), ReLU, expand, sigmoid.
 */
export interface SqueezeExcite {
  readonly ratio: number;
  readonly of: 'expanded' | 'input';
  readonly gate: 'hsigmoid' | 'sigmoid';
}

/** Regular conv: kxk conv + BN + act. */
export interface ConvBlock {
  readonly type: 'conv';
  readonly kernel: number;
  readonly stride: number;
  readonly out: number;
  readonly act: Activation;
  readonly skip: boolean;
}

/** Depthwise-separable: kxk depthwise + BN + act -> [SE] -> 1x1 linear projection + BN -> [residual]. */
export interface DsBlock {
  readonly type: 'ds';
  readonly kernel: number;
  readonly stride: number;
  readonly out: number;
  readonly se: SqueezeExcite | null;
  readonly act: Activation;
  readonly skip: boolean;
}

/**
 * Inverted residual (MBConv / bneck): [1x1 expand + BN + act, absent when exp == in] -> kxk depthwise + BN + act
 * -> [SE] -> 1x1 linear projection + BN -> [residual]. `exp` is an absolute width, not a ratio, so NetAdapt can
 * shrink it to any multiple of 8.
 */
export interface IrBlock {
  readonly type: 'ir';
  readonly kernel: number;
  readonly stride: number;
  readonly exp: number;
  readonly out: number;
  readonly se: SqueezeExcite | null;
  readonly act: Activation;
  readonly skip: boolean;
}

export type Block = ConvBlock | DsBlock | IrBlock;
export type BlockType = Block['type'];

export interface Stem {
  readonly kernel: number;
  readonly stride: number;
  readonly out: number;
  readonly act: Activation;
}

/**
 * Head. `conv`: 1x1 conv + BN + act (MobileNetV3's 6x last width, MobileNetV2's 1280), then global average pool.
 * `hidden` (MobileNetV3's "efficient last stage"): 1x1 conv with bias, no BN, + act after the pool; null when absent.
 * Then dropout and the classifier (with bias).
 */
export interface Head {
  readonly conv: number;
  readonly hidden: number | null;
  readonly act: Activation;
}

export interface BatchNormConfig {
  /** Moving-average decay (TF convention; PyTorch momentum = 1 - decay). */
  readonly decay: number;
  readonly eps: number;
}

export interface ArchSpec {
  /** Format version of the JSON form. */
  readonly version: 1;
  readonly name: string;
  /** Square input: size x size x channels. */
  readonly input: { readonly size: number; readonly channels: number };
  readonly classes: number;
  /**
   * Width multiplier, applied by `resolve` through makeDivisible(c * width, 8) (an ir block's exp keeps its ratio to
   * the block input, as TF-slim); head.hidden only when width > 1; width 1 keeps the widths as written.
   */
  readonly width: number;
  readonly padding: Padding;
  readonly bn: BatchNormConfig;
  readonly dropout: number;
  readonly stem: Stem;
  /** Stages of blocks; a stage is a run of blocks with the same output width (MnasNet's "block"). */
  readonly stages: readonly (readonly Block[])[];
  readonly head: Head;
}
