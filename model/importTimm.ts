// Weights from timm's MobileNetV3 (timm/models/mobilenetv3.py: mobilenetv3_large_100, mobilenetv3_small_100, ...)
// into a model built by buildModel. timm names blocks `blocks.<stage>.<index>` after its arch_def, whose stages are
// runs of equal output width, as ours are; a block without expansion is timm's DepthwiseSeparableConv, one with
// expansion its InvertedResidual, and the last 1x1 conv (our head.conv) a ConvBnAct stage of its own.
import { ArchError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import type { ResolvedArch } from '../space/resolve.js';
import { convBnSources, linearSources, type PyTorchNames, seSources } from './importTorchvision.js';

/**
 * timm's PyTorch-native MobileNetV3 uses nn.BatchNorm2d's default epsilon, not the paper's 1e-3 (only its tf_*
 * ports of the TF weights use 1e-3, with 'same' padding).
 */
export const TIMM_BN_EPS = 1e-5;

/** The spec of a timm MobileNetV3: the arch with timm's BN epsilon. */
export function timmSpec(spec: ArchSpec): ArchSpec {
  return { ...spec, bn: { ...spec.bn, eps: TIMM_BN_EPS } };
}

/** For each of our layers, the timm keys of its weights in our layer's weight order. */
export function timmMobileNetV3Names(arch: ResolvedArch): PyTorchNames {
  const map: PyTorchNames = new Map();
  map.set('stem', convBnSources('conv_stem', 'bn1', 'conv'));
  for (const b of arch.blocks) {
    const t = `blocks.${b.stage}.${b.index}`;
    if (b.type === 'conv') {
      map.set(`${b.path}.conv`, convBnSources(`${t}.conv`, `${t}.bn1`, 'conv'));
      continue;
    }
    const se = (): void => {
      if (b.se) map.set(`${b.path}.se`, seSources(`${t}.se.conv_reduce`, `${t}.se.conv_expand`));
    };
    if (b.hasExpand) {
      map.set(`${b.path}.expand`, convBnSources(`${t}.conv_pw`, `${t}.bn1`, 'conv'));
      map.set(`${b.path}.dw`, convBnSources(`${t}.conv_dw`, `${t}.bn2`, 'dw'));
      se();
      map.set(`${b.path}.project`, convBnSources(`${t}.conv_pwl`, `${t}.bn3`, 'conv'));
    } else {
      map.set(`${b.path}.dw`, convBnSources(`${t}.conv_dw`, `${t}.bn1`, 'dw'));
      se();
      map.set(`${b.path}.project`, convBnSources(`${t}.conv_pw`, `${t}.bn2`, 'conv'));
    }
  }
  const headStage = arch.spec.stages.length;
  map.set('head.conv', convBnSources(`blocks.${headStage}.0.conv`, `blocks.${headStage}.0.bn1`, 'conv'));
  if (arch.head.hidden === null) throw new ArchError('timm MobileNetV3 has a head.hidden layer (conv_head); this architecture has none');
  map.set('head.hidden', linearSources('conv_head'));
  map.set('head.classifier', linearSources('classifier'));
  return map;
}
