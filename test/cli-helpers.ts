// Shared by the command-line tests: the `nas` CLI (or one command of it) run in a child process, its exit status
// and output captured, and the assertion that it failed with the user's error (one `nas: ...` line, exit code 2).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, dist/cli/main.js. */
export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** What node runs before `args` (default: the CLI script); e.g. commandHarness(...). */
  readonly entry?: readonly string[];
  readonly cwd?: string;
}

function argv(args: readonly string[], opts: CliOptions): string[] {
  return [...(opts.entry ?? [CLI]), ...args];
}

/** Runs `node dist/cli/main.js ...args` to the end. */
export function runCli(args: readonly string[], opts: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, argv(args, opts), { encoding: 'utf8', ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli without blocking the event loop (for tests that serve the child from this process, e.g. over HTTP). */
export function runCliAsync(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, argv(args, opts), opts.cwd === undefined ? {} : { cwd: opts.cwd }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

/**
 * The node arguments that run one command module of cli/ as cli/main.ts runs it (strict yargs, usage errors on
 * one line, NasError -> `nas: message` and its exit code) without main's other commands, so that a test does not
 * depend on how they are registered. `modulePath` is relative to this file, e.g. '../cli/runs.js'.
 */
export function commandHarness(modulePath: string, exportName: string): readonly string[] {
  const url = (rel: string): string => JSON.stringify(new URL(rel, import.meta.url).href);
  const source = `
  const { default: yargs } = await import(${JSON.stringify(import.meta.resolve('yargs'))});
  const { ${exportName}: command } = await import(${url(modulePath)});
  const { NasError } = await import(${url('../common/errors.js')});
  try {
    await yargs(process.argv.slice(1)).command(command).strict().version(false)
      .fail((msg, err) => { throw err ?? new NasError('E_USAGE', msg.replace(/\\s*\\n\\s*/g, ' ')); }).parseAsync();
  } catch (e) {
    process.stderr.write('nas: ' + e.message + '\\n');
    process.exitCode = e instanceof NasError ? e.exitCode : 1;
  }`;
  return ['--input-type=module', '-e', source];
}

/** Exit code 2 and exactly one `nas: ...` line on stderr, mentioning each part. */
export function userError(r: CliRun, ...parts: string[]): void {
  assert.equal(r.status, 2, `exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.match(lines[0] ?? '', /^nas: /);
  for (const p of parts) assert.ok(r.stderr.includes(p), `'${r.stderr.trim()}' should mention '${p}'`);
}
