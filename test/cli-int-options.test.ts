// Every whole-number option goes through common/intOption.ts: one wording across commands, naming the option,
// its range and what was given (a value that is not a number said as such, not as "NaN").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-int-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'nas.db');

test('search, netadapt, bench train, eval and latency name a bad whole number the same way', () => {
  const synth = ['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--workers', '0', '--db', db];
  const cases: [string[], string][] = [
    [[...synth, '--budget', 'abc'], '--budget must be an integer >= 1, got a value that is not a number'],
    [[...synth, '--batch', '2.5'], '--batch must be an integer >= 1, got 2.5'],
    [['netadapt', '--arch', 'mobilenetv3-small', '--target', 'latency=0.7x', '--short-steps', '0', '--db', db], '--short-steps must be an integer >= 1, got 0'],
    [['bench', 'train', '--arch', 'mobilenetv3-small', '--steps', '0'], '--steps must be an integer >= 1, got 0'],
    [['bench', 'train', '--arch', 'mobilenetv3-small', '--warmup', '-1'], '--warmup must be an integer >= 0, got -1'],
    [['eval', '--checkpoint', join(dir, 'none'), '--batch', '0'], '--batch must be an integer >= 1, got 0'],
    [['latency', 'measure', '--arch', 'mobilenetv3-small', '--runs', '0'], '--runs must be an integer >= 1, got 0'],
  ];
  for (const [args, message] of cases) userError(runCli(args), message);
});
