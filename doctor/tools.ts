// `nas doctor`'s checks of programs outside Node: PyTorch (the references of the benchmarks and tests), Chromium
// (the browser latency runner and the report's test) and Redis (the queue engine). Each looks where the code that
// uses it looks: /usr/bin/python3, latency/runners/chromium.ts, bench/redisServer.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_FIX, chromiumPath } from '../latency/runners/chromium.js';
import { checkReachable, redactedUrl } from '../search/engine/queue/connection.js';
import { REDIS_SERVER } from '../bench/redisServer.js';
import { PYTHON } from '../bench/runJson.js';
import { type DoctorCheck, firstLine, missing, ok } from './check.js';

/** A program's stdout, or the error's first line; never throws. */
function run(cmd: string, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout) => resolve(err ? { ok: false, out: firstLine(err) } : { ok: true, out: stdout.trim() }));
  });
}

const PY_VERSIONS = `import json, importlib
v = {}
for m in ('torch', 'torchvision'):
    try: v[m] = importlib.import_module(m).__version__
    except Exception as e: v[m] = None
print(json.dumps(v))`;

function versionOf(out: string, module: string): string | null {
  try {
    const parsed: unknown = JSON.parse(out);
    const v: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, module) : undefined;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** torch and torchvision as /usr/bin/python3 imports them (one interpreter start for both). */
export async function pytorchChecks(): Promise<DoctorCheck[]> {
  const fix = (pkg: string): string => `apt-get install ${pkg}`;
  if (!existsSync(PYTHON)) return ['torch', 'torchvision'].map((m) => missing(`pytorch ${m}`, `${PYTHON} not found`, fix(`python3 python3-${m}`)));
  const r = await run(PYTHON, ['-c', PY_VERSIONS]);
  return ['torch', 'torchvision'].map((m) => {
    const v = r.ok ? versionOf(r.out, m) : null;
    return v === null
      ? missing(`pytorch ${m}`, r.ok ? `${PYTHON} cannot import ${m}` : r.out, fix(`python3-${m}`))
      : ok(`pytorch ${m}`, `${m} ${v} (${PYTHON}: the references of the benchmarks and tests)`);
  });
}

export async function chromiumCheck(): Promise<DoctorCheck> {
  const path = chromiumPath();
  if (!existsSync(path)) return missing('chromium', `not found at ${path}`, CHROMIUM_FIX);
  const r = await run(path, ['--version']);
  if (!r.ok) return missing('chromium', `${path} --version failed: ${r.out}`, CHROMIUM_FIX);
  return ok('chromium', `${r.out} at ${path} (latency --runner browser, the report's page test)`);
}

export async function redisCheck(): Promise<DoctorCheck> {
  const fix = 'apt-get install redis-server';
  if (!existsSync(REDIS_SERVER)) return missing('redis-server', `not found at ${REDIS_SERVER}`, fix);
  const r = await run(REDIS_SERVER, ['--version']);
  const version = r.ok ? r.out.split(' ').slice(0, 3).join(' ') : r.out;
  return ok('redis-server', `${version} at ${REDIS_SERVER} (a Redis for nas search --queue; the queue tests start their own)`);
}

/** One PING to the Redis a `--queue URL` names, as `nas search --queue` sends first. */
export async function queueCheck(url: string): Promise<DoctorCheck> {
  try {
    await checkReachable(url);
    return ok('redis queue', `${redactedUrl(url)} answers PING`);
  } catch (e) {
    return missing('redis queue', firstLine(e), `start redis-server on that host (apt-get install redis-server) or fix the URL`);
  }
}
