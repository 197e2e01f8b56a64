// What the commands that read a checkpoint (eval, predict, export) share: the --allow-fallback option. Their count
// options go through common/intOption.ts, whose messages name the option as typed and its range.

export const allowFallbackOption = {
  type: 'boolean',
  default: false,
  describe: "when a run directory's newest checkpoint is corrupt, use the newest intact one (and say so) instead of refusing",
} as const;
