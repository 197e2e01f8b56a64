// Reference architectures as data. Each stage lists its blocks as block strings, one row per layer of the paper's
// table (kernel, expanded width, output width, SE, activation, stride), so a reviewer can check them line by line.
import { ArchError } from '../common/errors.js';
import type { ArchSpec, Block, Head, Stem } from './arch.js';
import { decodeBlock } from './blockString.js';

const rep = (s: string, n: number): string[] => Array.from({ length: n }, () => s);

/** MobileNetV3-Large, Table 1 of Howard et al. 2019. */
const V3_LARGE: readonly (readonly string[])[] = [
  ['ir_k3_s1_x16_c16_re'],
  ['ir_k3_s2_x64_c24_re', 'ir_k3_s1_x72_c24_re'],
  ['ir_k5_s2_x72_c40_se_re', ...rep('ir_k5_s1_x120_c40_se_re', 2)],
  ['ir_k3_s2_x240_c80_hs', 'ir_k3_s1_x200_c80_hs', ...rep('ir_k3_s1_x184_c80_hs', 2)],
  ['ir_k3_s1_x480_c112_se_hs', 'ir_k3_s1_x672_c112_se_hs'],
  ['ir_k5_s2_x672_c160_se_hs', ...rep('ir_k5_s1_x960_c160_se_hs', 2)],
];

/** MobileNetV3-Small, Table 2 (without the SE the paper marks on the final 1x1 conv, as every implementation). */
const V3_SMALL: readonly (readonly string[])[] = [
  ['ir_k3_s2_x16_c16_se_re'],
  ['ir_k3_s2_x72_c24_re', 'ir_k3_s1_x88_c24_re'],
  ['ir_k5_s2_x96_c40_se_hs', ...rep('ir_k5_s1_x240_c40_se_hs', 2)],
  ['ir_k5_s1_x120_c48_se_hs', 'ir_k5_s1_x144_c48_se_hs'],
  ['ir_k5_s2_x288_c96_se_hs', ...rep('ir_k5_s1_x576_c96_se_hs', 2)],
];

/** MnasNet-A1 (Tan et al. 2019, Figure 7; TPU MnasNet `mnasnet_a1`): SE relative to the block input. */
const MNASNET_A1: readonly (readonly string[])[] = [
  ['ds_k3_s1_c16_re_noskip'],
  ['ir_k3_s2_x96_c24_re', 'ir_k3_s1_x144_c24_re'],
  ['ir_k5_s2_x72_c40_sem0.25_re', ...rep('ir_k5_s1_x120_c40_sem0.25_re', 2)],
  ['ir_k3_s2_x240_c80_re', ...rep('ir_k3_s1_x480_c80_re', 3)],
  ['ir_k3_s1_x480_c112_sem0.25_re', 'ir_k3_s1_x672_c112_sem0.25_re'],
  ['ir_k5_s2_x672_c160_sem0.25_re', ...rep('ir_k5_s1_x960_c160_sem0.25_re', 2)],
  ['ir_k3_s1_x960_c320_re'],
];

/** MnasNet-B1 as torchvision's mnasnet1_0 (depths 32, 16, 24, 40, 80, 96, 192, 320). */
const MNASNET_B1: readonly (readonly string[])[] = [
  ['ds_k3_s1_c16_re_noskip'],
  ['ir_k3_s2_x48_c24_re', ...rep('ir_k3_s1_x72_c24_re', 2)],
  ['ir_k5_s2_x72_c40_re', ...rep('ir_k5_s1_x120_c40_re', 2)],
  ['ir_k5_s2_x240_c80_re', ...rep('ir_k5_s1_x480_c80_re', 2)],
  ['ir_k3_s1_x480_c96_re', 'ir_k3_s1_x576_c96_re'],
  ['ir_k5_s2_x576_c192_re', ...rep('ir_k5_s1_x1152_c192_re', 3)],
  ['ir_k3_s1_x1152_c320_re'],
];

/** MobileNetV2 as torchvision's mobilenet_v2: (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1). */
const MOBILENETV2: readonly (readonly string[])[] = [
  ['ir_k3_s1_x32_c16_r6'],
  ['ir_k3_s2_x96_c24_r6', 'ir_k3_s1_x144_c24_r6'],
  ['ir_k3_s2_x144_c32_r6', ...rep('ir_k3_s1_x192_c32_r6', 2)],
  ['ir_k3_s2_x192_c64_r6', ...rep('ir_k3_s1_x384_c64_r6', 3)],
  ['ir_k3_s1_x384_c96_r6', ...rep('ir_k3_s1_x576_c96_r6', 2)],
  ['ir_k3_s2_x576_c160_r6', ...rep('ir_k3_s1_x960_c160_r6', 2)],
  ['ir_k3_s1_x960_c320_r6'],
];

const TF_BN = { decay: 0.99, eps: 1e-3 } as const;

function arch(
  name: string,
  stem: Stem,
  stages: readonly (readonly string[])[],
  head: Head,
  more: Partial<Pick<ArchSpec, 'bn' | 'padding' | 'dropout' | 'width'>> = {},
): ArchSpec {
  return {
    version: 1,
    name,
    input: { size: 224, channels: 3 },
    classes: 1000,
    width: more.width ?? 1,
    padding: more.padding ?? 'symmetric',
    bn: more.bn ?? TF_BN,
    dropout: more.dropout ?? 0.2,
    stem,
    stages: stages.map((s) => s.map(decodeBlock)),
    head,
  };
}

/** MobileNetV3 "minimalistic": same widths, no SE, ReLU everywhere, all kernels 3x3. */
function minimal(spec: ArchSpec, name: string): ArchSpec {
  const plain = (b: Block): Block =>
    b.type === 'conv' ? { ...b, kernel: 3, act: 'relu' } : { ...b, kernel: 3, act: 'relu', se: null };
  return {
    ...spec,
    name,
    stem: { ...spec.stem, act: 'relu' },
    stages: spec.stages.map((s) => s.map(plain)),
    head: { ...spec.head, act: 'relu' },
  };
}

const V3_STEM: Stem = { kernel: 3, stride: 2, out: 16, act: 'hswish' };
const large = (): ArchSpec =>
  arch('mobilenetv3-large', V3_STEM, V3_LARGE, { conv: 960, hidden: 1280, act: 'hswish' });
const small = (): ArchSpec =>
  arch('mobilenetv3-small', V3_STEM, V3_SMALL, { conv: 576, hidden: 1024, act: 'hswish' });

interface Reference {
  readonly description: string;
  readonly spec: () => ArchSpec;
}

const REFERENCES: ReadonlyMap<string, Reference> = new Map<string, Reference>([
  ['mobilenetv3-large', { description: 'MobileNetV3-Large 1.0 (Howard et al. 2019, Table 1)', spec: large }],
  ['mobilenetv3-small', { description: 'MobileNetV3-Small 1.0 (Table 2)', spec: small }],
  [
    'mobilenetv3-large-0.75',
    { description: 'MobileNetV3-Large, width 0.75 (head 1280 kept)', spec: () => ({ ...large(), name: 'mobilenetv3-large-0.75', width: 0.75 }) },
  ],
  [
    'mobilenetv3-small-0.75',
    { description: 'MobileNetV3-Small, width 0.75 (head 1024 kept)', spec: () => ({ ...small(), name: 'mobilenetv3-small-0.75', width: 0.75 }) },
  ],
  [
    'mobilenetv3-large-minimal',
    { description: 'MobileNetV3-Large minimalistic: no SE, ReLU only, 3x3 kernels', spec: () => minimal(large(), 'mobilenetv3-large-minimal') },
  ],
  [
    'mobilenetv3-small-minimal',
    { description: 'MobileNetV3-Small minimalistic: no SE, ReLU only, 3x3 kernels', spec: () => minimal(small(), 'mobilenetv3-small-minimal') },
  ],
  [
    'mnasnet-a1',
    {
      description: 'MnasNet-A1 (Tan et al. 2019): sepconv + MBConv, SE of the block input',
      spec: () => arch('mnasnet-a1', { kernel: 3, stride: 2, out: 32, act: 'relu' }, MNASNET_A1, { conv: 1280, hidden: null, act: 'relu' }),
    },
  ],
  [
    'mnasnet-b1',
    {
      description: "MnasNet-B1 1.0, no SE (= torchvision's mnasnet1_0)",
      spec: () =>
        arch('mnasnet-b1', { kernel: 3, stride: 2, out: 32, act: 'relu' }, MNASNET_B1, { conv: 1280, hidden: null, act: 'relu' }, {
          bn: { decay: 0.9997, eps: 1e-5 },
        }),
    },
  ],
  [
    'mobilenetv2',
    {
      description: "MobileNetV2 1.0, ReLU6 (= torchvision's mobilenet_v2)",
      spec: () =>
        arch('mobilenetv2', { kernel: 3, stride: 2, out: 32, act: 'relu6' }, MOBILENETV2, { conv: 1280, hidden: null, act: 'relu6' }, {
          bn: { decay: 0.9, eps: 1e-5 },
        }),
    },
  ],
]);

/** Names of the reference architectures, in a fixed order. */
export function referenceNames(): readonly string[] {
  return [...REFERENCES.keys()];
}

export function isReferenceName(name: string): boolean {
  return REFERENCES.has(name);
}

/** One line describing a reference architecture. */
export function referenceDescription(name: string): string {
  return lookup(name).description;
}

/** A fresh copy of a reference architecture's spec. */
export function referenceArch(name: string): ArchSpec {
  return lookup(name).spec();
}

function lookup(name: string): Reference {
  const r = REFERENCES.get(name);
  if (!r) throw new ArchError(`unknown reference architecture '${name}'; known: ${referenceNames().join(', ')}`);
  return r;
}
