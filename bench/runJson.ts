// Runs a benchmark side (our CLI or a PyTorch script) as a child process and parses the JSON it prints.
import { spawnSync } from 'node:child_process';

/** The Python the PyTorch peers and references run with (Debian's, where python3-torch installs). */
export const PYTHON = '/usr/bin/python3';

export function runJson(cmd: string, args: readonly string[]): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stderr.write(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}
