// `nas doctor` (issue 18, item 5): what it reports agrees with this machine, a component made absent (by the
// variables the code looks it up with) shows as missing with its fix, and `--queue URL` pings a real Redis.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, hasRedisServer, REDIS_SERVER, startRedisServer } from '../bench/redisServer.js';
import { CLI, type CliRun, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Check {
  readonly name: string;
  readonly status: string;
  readonly required: boolean;
  readonly detail: string;
  readonly fix: string | null;
}

function doctor(args: readonly string[], env: Record<string, string> = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, 'doctor', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The checks of `nas doctor --json`, by name; it exits 0 (the required parts are there on a test machine). */
function checks(args: readonly string[] = [], env: Record<string, string> = {}): Map<string, Check> {
  const r = doctor(['--json', ...args], env);
  assert.equal(r.status, 0, r.stderr);
  const report: { version: unknown; checks: Check[]; missingRequired: unknown } = JSON.parse(r.stdout);
  assert.equal(typeof report.version, 'string');
  assert.deepEqual(report.missingRequired, []);
  for (const c of report.checks) {
    assert.ok(c.status === 'ok' || c.status === 'missing', `${c.name}: ${c.status}`);
    assert.equal(c.fix === null, c.status === 'ok', `${c.name}: a fix exactly when missing`);
  }
  return new Map(report.checks.map((c) => [c.name, c]));
}

const status = (present: boolean): string => (present ? 'ok' : 'missing');

test('nas doctor --json lists the components and agrees with this machine', () => {
  const byName = checks([], { NAS_DATA_DIR: join(dir, 'no-data') });
  const names = ['node', 'wasm backend', 'native kernels', 'cpu backend', 'tensorflow backend', 'threads', 'onnxruntime-node',
    'pytorch torch', 'pytorch torchvision', 'chromium', 'redis-server', 'dataset mnist', 'dataset fashion-mnist', 'dataset cifar10'];
  assert.deepEqual([...byName.keys()], names);
  for (const n of ['node', 'wasm backend', 'native kernels', 'cpu backend', 'threads', 'onnxruntime-node', 'dataset mnist']) {
    assert.equal(byName.get(n)?.status, 'ok', `${n}: ${byName.get(n)?.detail}`);
  }
  assert.match(byName.get('native kernels')?.detail ?? '', /ISA (baseline|avx2|avx512)/);
  const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  assert.equal(byName.get('pytorch torch')?.status, status(torch));
  assert.equal(byName.get('chromium')?.status, status(existsSync(process.env['NAS_CHROMIUM'] || '/usr/bin/chromium')));
  assert.equal(byName.get('redis-server')?.status, status(hasRedisServer()));
  assert.equal(byName.get('dataset fashion-mnist')?.status, status(existsSync('/usr/share/datasets/fashion-mnist')));
  const cifar = byName.get('dataset cifar10');
  assert.equal(cifar?.status, 'missing');
  assert.match(cifar?.fix ?? '', /nas data download cifar10/);
});

test('a component made absent is missing with its fix; CIFAR-10 is found where NAS_DATA_DIR says; exit code 0', () => {
  const batches = join(dir, 'data', 'cifar10', 'cifar-10-batches-bin');
  mkdirSync(batches, { recursive: true });
  for (const f of ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) writeFileSync(join(batches, `${f}.bin`), '');
  const r = doctor([], { NAS_CHROMIUM: join(dir, 'no-chromium'), NAS_DATA_DIR: join(dir, 'data') });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^nas \d+\.\d+\.\d+\S* on /);
  assert.match(r.stdout, /^chromium +missing +not found at \S*no-chromium\n +fix: apt-get install chromium/m);
  const cifar = r.stdout.split('\n').find((l) => l.startsWith('dataset cifar10 '));
  assert.match(cifar ?? '', /^dataset cifar10 +ok +(\S+)$/);
  assert.ok(cifar?.endsWith(` ${join(dir, 'data', 'cifar10')}`), cifar);
  assert.match(r.stdout, /^everything required is there; \d+ optional parts? (is|are) missing/m);
});

test('nas doctor --queue pings the Redis a search would use', { skip: hasRedisServer() ? false : `${REDIS_SERVER} is absent` }, async () => {
  const redis = await startRedisServer(false);
  try {
    assert.equal(checks(['--queue', redis.url]).get('redis queue')?.status, 'ok');
  } finally {
    await redis.dispose();
  }
  const nobody = checks(['--queue', `redis://127.0.0.1:${await freePort()}/0`]).get('redis queue');
  assert.equal(nobody?.status, 'missing');
  assert.match(nobody?.detail ?? '', /cannot reach Redis/);
  userError(doctor(['--queue', 'http://localhost']), '--queue', 'redis://');
});
