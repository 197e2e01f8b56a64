// Pretrained PyTorch MobileNetV3 weights (a safetensors state_dict from torchvision or timm) as a model of ours:
// builds the architecture with the number of classes of the weights' classifier and copies every tensor in.
import { basename } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ArchError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { type ResolvedArch, resolve } from '../space/resolve.js';
import { buildModel } from './build.js';
import { timmMobileNetV3Names, timmSpec } from './importTimm.js';
import { copyPyTorchWeights, type PyTorchNames, torchvisionMobileNetV3Names } from './importTorchvision.js';
import { readSafetensors } from './safetensors.js';
import type { WeightSource } from './weightSources.js';

export interface ImportedModel {
  readonly model: tf.LayersModel;
  /**
   * The architecture the weights were loaded into: `arch` with the classes of the weights' classifier and, for
   * timm, timm's BN epsilon.
   */
  readonly spec: ArchSpec;
}

interface Mapping {
  readonly description: string;
  readonly spec: (arch: ArchSpec) => ArchSpec;
  readonly names: (arch: ResolvedArch) => PyTorchNames;
}

const mappings: Readonly<Record<WeightSource, Mapping>> = {
  torchvision: { description: 'torchvision MobileNetV3', spec: (a) => a, names: torchvisionMobileNetV3Names },
  timm: { description: 'timm MobileNetV3', spec: timmSpec, names: timmMobileNetV3Names },
};

/**
 * Loads `weightsPath` (safetensors) from `from` into a new model of `arch`. A file of another architecture or
 * layout is an ArchError naming the file, the first key or shape that does not fit, and the architecture.
 */
export function importWeights(from: WeightSource, arch: ArchSpec, weightsPath: string): ImportedModel {
  const mapping = mappings[from];
  const weights = readSafetensors(weightsPath);
  const misfit = (why: string): ArchError =>
    new ArchError(`${basename(weightsPath)} is not a ${mapping.description} of ${arch.name}: ${why}`);
  let model: tf.LayersModel | null = null;
  try {
    const base = mapping.spec(arch);
    const names = mapping.names(resolve(base));
    const missing = [...names.values()].flat().find((source) => !weights.has(source.key));
    if (missing) throw new ArchError(`the weights lack ${missing.key}`);
    const classifierKey = names.get('head.classifier')?.[0]?.key ?? '';
    const classes = weights.get(classifierKey)?.shape[0];
    if (!classes) throw new ArchError(`${classifierKey} is empty`);
    const spec: ArchSpec = { ...base, classes };
    const resolved = resolve(spec);
    model = buildModel(resolved);
    copyPyTorchWeights(model, mapping.names(resolved), weights, mapping.description);
    return { model, spec };
  } catch (e) {
    model?.dispose();
    throw e instanceof ArchError ? misfit(e.message) : e;
  }
}
