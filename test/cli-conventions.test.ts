// CLI conventions (issue 18, item 5): `nas --version` from package.json, shell completion through yargs'
// `--get-yargs-completions` (driven by the generated bash script itself), and `nas search --config FILE`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { configFileParser } from '../cli/configFile.js';
import { UsageError } from '../common/errors.js';
import { CLI, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-cli-conventions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const BASH = '/bin/bash';

test('nas --version prints the version in package.json', () => {
  const pkg: unknown = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
  const version: unknown = typeof pkg === 'object' && pkg !== null ? Reflect.get(pkg, 'version') : undefined;
  assert.equal(typeof version, 'string');
  const r = runCli(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${String(version)}\n`);
});

/** What the bash script, sourced as `nas completion >> ~/.bashrc` does, offers for each line of words (cursor on the last). */
function bashCompletions(script: string, bin: string, lines: readonly (readonly string[])[]): string[][] {
  const one = (words: readonly string[]): string =>
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nas_yargs_completions; echo "\${COMPREPLY[*]}"`;
  const r = spawnSync(BASH, ['-c', [`source '${script}'`, ...lines.map(one)].join('\n')], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, lines.length).map((l) => l.split(' ').filter((w) => w !== ''));
}

test('nas completion prints a bash script that completes commands and a command\'s flags', { skip: existsSync(BASH) ? false : `${BASH} is absent` }, () => {
  const r = spawnSync(process.execPath, [CLI, 'completion'], { encoding: 'utf8', env: { ...process.env, SHELL: '/bin/bash' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /complete -o bashdefault -o default -F _nas_yargs_completions nas/);
  const script = join(dir, 'nas-completion.bash');
  writeFileSync(script, r.stdout);
  // `nas` on the PATH, as npm installs it: a launcher of this build's CLI.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'nas'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'nas'), 0o755);
  const got = bashCompletions(script, bin, [['nas', 'se'], ['nas', 'search', '--bu'], ['nas', 'search', '--conf']]);
  assert.deepEqual(got, [['search'], ['--budget'], ['--config']]);
});

test('nas completion prints zsh\'s script when $SHELL is zsh', () => {
  const zsh = spawnSync(process.execPath, [CLI, 'completion'], { encoding: 'utf8', env: { ...process.env, SHELL: '/usr/bin/zsh' } });
  assert.equal(zsh.status, 0, zsh.stderr);
  assert.match(zsh.stdout, /^#compdef nas/);
  assert.match(zsh.stdout, /compdef _nas_yargs_completions nas/);
});

const SEARCH_JSON = {
  evaluator: 'synthetic',
  workers: 0,
  strategy: 'random',
  target: ['latency=20ms'],
  budget: 4,
  seed: 3,
  proxyEpochs: 2, // camelCase, as yargs accepts it
  'max-failures': 1, // the flag's own spelling
};

test('nas search --config: the flags from a JSON file, under those of the command line', () => {
  const db = join(dir, 'config.db');
  const file = join(dir, 'search.json');
  writeFileSync(file, JSON.stringify(SEARCH_JSON));
  const r = runCli(['search', '--config', file, '--budget', '5', '--target', 'madds=60M', '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const runId: unknown = Reflect.get(JSON.parse(r.stdout), 'runId');
  assert.equal(typeof runId, 'string');
  const shown = runCli(['runs', 'show', String(runId), '--db', db, '--json']);
  assert.equal(shown.status, 0, shown.stderr);
  const run = JSON.parse(shown.stdout).run;
  // From the file: strategy, evaluator, proxyEpochs, max-failures, seed; from the command line: budget and target.
  assert.equal(run.config.strategy, 'random');
  assert.equal(run.config.evaluator, 'synthetic');
  assert.equal(run.config.evaluatorConfig.proxyEpochs, 2);
  assert.equal(run.config.maxFailures, 1);
  assert.equal(run.seed, 3);
  assert.equal(run.config.budget, 5);
  assert.deepEqual(run.config.targets, ['madds=60M']);
});

const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

test('nas search --config: an unknown key or a file that is not JSON is one line naming the file, exit code 2', () => {
  const db = join(dir, 'bad.db');
  const unknown = write('unknown.json', JSON.stringify({ ...SEARCH_JSON, budgett: 3 }));
  userError(runCli(['search', '--config', unknown, '--db', db]), 'unknown key "budgett"', unknown);
  const text = write('text.json', 'budget: 3\n');
  userError(runCli(['search', '--config', text, '--db', db]), 'not JSON', text);
});

test('the config parser checks keys against the command\'s flags and values against their kind', () => {
  const y = yargs([]).option('budget', { type: 'number' }).option('proxy-epochs', { type: 'number' }).option('target', { type: 'string', array: true });
  const parse = configFileParser(y);
  assert.deepEqual(parse(write('good.json', '{"budget": 3, "proxyEpochs": 1, "target": ["madds=60M"]}')), { budget: 3, proxyEpochs: 1, target: ['madds=60M'] });
  const cases: [string, RegExp][] = [
    [write('list.json', '[1, 2]'), /expected a JSON object/],
    [write('nested.json', JSON.stringify({ budget: { n: 3 } })), /"budget" must be a string, number or boolean/],
    [write('array.json', JSON.stringify({ budget: [3, 4] })), /"budget" must be/],
    [write('twice.json', JSON.stringify({ 'proxy-epochs': 1, proxyEpochs: 2 })), /"proxy-epochs" and "proxyEpochs" name the same flag/],
    [write('help.json', JSON.stringify({ help: true })), /unknown key "help"/],
    [join(dir, 'absent.json'), /absent.json: no such file/],
  ];
  for (const [file, message] of cases) assert.throws(() => parse(file), (e: unknown) => e instanceof UsageError && message.test(e.message));
});
