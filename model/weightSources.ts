// Whose PyTorch state_dict names `nas import-weights` reads (model/importWeights.ts maps them), apart from the
// importer so that the command line lists them without loading tfjs.
export const weightSources = ['torchvision', 'timm'] as const;
export type WeightSource = (typeof weightSources)[number];
