// The `browser` runner: tfjs (wasm or webgl) in a page of headless Chromium (Debian's /usr/bin/chromium, or
// NAS_CHROMIUM), driven by playwright-core. The page (latency/page, bundled to dist/web/latency/page.js) and the
// tfjs-backend-wasm binaries are served from 127.0.0.1 on an ephemeral port; each request is JSON (which models,
// how many runs) and the page answers the samples, timed there exactly as the node runner times them.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { NasError } from '../../common/errors.js';
import type { ArchSpec } from '../../space/arch.js';
import type { EntryRef } from '../entryModels.js';
import type { ArchsRequest, EntriesRequest, LatencyPageApi, PageInit, PageReady } from '../page/protocol.js';
import { CHROMIUM_FIX, chromiumPath } from './chromium.js';
import { type LatencyRunner, machineName, type RunnerMeasureOptions } from './interface.js';
import { statsOf } from '../stats.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PAGE_JS = join(ROOT, 'dist', 'web', 'latency', 'page.js');

// Without the background-networking flags Chromium's connections are refused by a closed network; with
// --disable-gpu WebGL falls back to SwiftShader only where that is explicitly allowed.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
];
const WEBGL_ARGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];

const INDEX_HTML = '<!doctype html><meta charset="utf-8"><title>nas latency</title><script type="module" src="/page.js"></script>\n';

/** The directory of tfjs-backend-wasm's .wasm binaries. */
function wasmDir(): string {
  const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  return dirname(main);
}

/**
 * Serve the page, its bundle and the wasm binaries. Cross-origin isolation (COOP + COEP) gives the page
 * SharedArrayBuffer for the threaded wasm binary and a 5 us performance.now() instead of a 100 us one.
 */
function serve(): Promise<Server> {
  const wasm = wasmDir();
  const files: Record<string, { path?: string; body?: string; type: string }> = {
    '/': { body: INDEX_HTML, type: 'text/html; charset=utf-8' },
    '/page.js': { path: PAGE_JS, type: 'text/javascript; charset=utf-8' },
    '/page.js.map': { path: `${PAGE_JS}.map`, type: 'application/json' },
  };
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    files[`/wasm/${f}`] = { path: join(wasm, f), type: 'application/wasm' };
  }
  const server = createServer((req, res) => {
    const f = files[new URL(req.url ?? '/', 'http://127.0.0.1').pathname];
    if (f === undefined || (f.path !== undefined && !existsSync(f.path))) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': f.type,
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-store',
    });
    res.end(f.path === undefined ? f.body : readFileSync(f.path));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

/** The page's error as one line. */
function pageError(e: unknown): string {
  const m = (e instanceof Error ? e.message : String(e)).replace(/^.*?Error: /s, '');
  return (m.split('\n')[0] ?? m).trim();
}

type Call = { method: 'init'; req: PageInit } | { method: 'measureEntries'; req: EntriesRequest } | { method: 'measureArchs'; req: ArchsRequest };

async function call<T>(page: Page, c: Call): Promise<T> {
  try {
    return (await page.evaluate(
      async (arg: Call) => {
        const api = (globalThis as { nasLatency?: LatencyPageApi }).nasLatency;
        if (api === undefined) throw new Error('the latency page did not load');
        const fn = api[arg.method] as (req: unknown) => unknown;
        return fn(arg.req);
      },
      c,
    )) as T;
  } catch (e) {
    throw new NasError('E_BACKEND', `browser runner: ${pageError(e)}`);
  }
}

export async function openBrowserRunner(backend: 'wasm' | 'webgl', threads: number): Promise<LatencyRunner> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new NasError('E_BACKEND', `Chromium not found at ${executablePath}: ${CHROMIUM_FIX}`);
  }
  if (!existsSync(PAGE_JS)) throw new NasError('E_BACKEND', `${PAGE_JS} is missing: run npm run build:web`);
  const server = await serve();
  let browser: Browser | undefined;
  try {
    // playwright kills the browser when this process exits, and closes it on SIGINT/SIGTERM/SIGHUP.
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: backend === 'webgl' ? [...CHROMIUM_ARGS, ...WEBGL_ARGS] : [...CHROMIUM_ARGS, '--disable-gpu'],
      handleSIGINT: true,
      handleSIGTERM: true,
      handleSIGHUP: true,
    });
    const page = await browser.newPage();
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as { nasLatency?: unknown }).nasLatency !== undefined, undefined, { timeout: 30_000 });
    const ready = await call<PageReady>(page, { method: 'init', req: { backend, threads, wasmPath: `${origin}/wasm/` } });
    if (backend === 'wasm' && ready.threads !== threads) {
      // Only one thread is asked for today (runner.ts); kept so that a page which runs another count says so.
      throw new NasError('E_BACKEND', `browser runner: asked for ${threads} wasm threads, the page runs ${ready.threads}`);
    }
    const machine =
      `${machineName()}; Chromium ${browser.version()}` + (ready.renderer === null ? '' : `; WebGL ${ready.renderer}`);
    const opened = browser;
    let closed = false;
    const rounds = (o: RunnerMeasureOptions) => ({
      warmup: o.warmup,
      runs: o.runs,
      rounds: o.rounds,
      ...(o.minSeconds === undefined ? {} : { minSeconds: o.minSeconds }),
    });
    return {
      name: 'browser',
      backend: ready.backend,
      threads: ready.threads,
      machine,
      measureEntries: async (entries: readonly EntryRef[], o) =>
        statsOf(await call<number[][]>(page, { method: 'measureEntries', req: { entries, ...rounds(o) } })),
      measureArchs: async (archs: readonly ArchSpec[], o) =>
        statsOf(await call<number[][]>(page, { method: 'measureArchs', req: { archs, seed: o.seed ?? 0, ...rounds(o) } })),
      close: async () => {
        if (closed) return;
        closed = true;
        await opened.close();
        await new Promise((ok) => server.close(ok));
      },
    };
  } catch (e) {
    await browser?.close();
    await new Promise((ok) => server.close(ok));
    throw e;
  }
}
