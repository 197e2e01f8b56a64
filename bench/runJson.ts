// Runs a benchmark side (our CLI or a PyTorch script) as a child process and parses the JSON it prints.
import { spawnSync } from 'node:child_process';

export function runJson(cmd: string, args: readonly string[]): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stderr.write(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}
