// The formats `nas export` writes (model/export.ts writes them), apart from the writers so that the command line
// names them without loading tfjs.
export const exportFormats = ['tfjs', 'onnx'] as const;
export type ExportFormat = (typeof exportFormats)[number];

export function isExportFormat(format: string): format is ExportFormat {
  return (exportFormats as readonly string[]).includes(format);
}
