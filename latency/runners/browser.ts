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
import type * as tf from '@tensorflow/tfjs';
import { engine } from '@tensorflow/tfjs';
import { useBackend } from '../../backend/select.js';
import { NasError } from '../../common/errors.js';
import type { ArchSpec } from '../../space/arch.js';
import { resolve } from '../../space/resolve.js';
import { entryModel, wholeModel } from '../entryModels.js';
import { type OnnxForm, onnxFormOf } from '../onnxForm.js';
import { parityModel } from '../parityWeights.js';
import type {
  ArchsRequest, ArchsToBuild, EntriesRequest, LatencyPageApi, OnnxModel, PageBackend, PageInit, PageReady, PageRounds, ParityRequest,
  PreparedRef, PreparedRuns,
} from '../page/protocol.js';
import { guardedPrepared, type PreparedArchs, type PrepareOptions } from '../prepared.js';
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

/** The directory of onnxruntime-web's wasm files (its dist/, where its CommonJS entry lives). */
function ortWasmDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
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
  // onnxruntime-web's wasm provider: its binary, and the loader it imports when not bundled with it.
  const ort = ortWasmDir();
  files['/ort/ort-wasm-simd-threaded.wasm'] = { path: join(ort, 'ort-wasm-simd-threaded.wasm'), type: 'application/wasm' };
  files['/ort/ort-wasm-simd-threaded.mjs'] = { path: join(ort, 'ort-wasm-simd-threaded.mjs'), type: 'text/javascript; charset=utf-8' };
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

type Call =
  | { method: 'init'; req: PageInit }
  | { method: 'measureEntries'; req: EntriesRequest }
  | { method: 'measureArchs'; req: ArchsRequest }
  | { method: 'openOnnx'; req: OnnxModel }
  | { method: 'measureOnnx'; req: PageRounds }
  | { method: 'onnxParity'; req: ParityRequest }
  | { method: 'prepareArchs'; req: ArchsToBuild }
  | { method: 'prepareOnnx'; req: null }
  | { method: 'timePrepared'; req: PreparedRuns }
  | { method: 'closePrepared'; req: PreparedRef };

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

/** The browser runner; on the ort-web engine it also compares ort-web's outputs with tfjs's in the page. */
export interface BrowserRunner extends LatencyRunner {
  /** The largest absolute difference between ort-web's and tfjs's outputs of `spec` on one input (ort-web only). */
  onnxParity(spec: ArchSpec, seed?: number): Promise<number>;
}

const rounds = (o: RunnerMeasureOptions): PageRounds => ({
  warmup: o.warmup,
  runs: o.runs,
  rounds: o.rounds,
  ...(o.minSeconds === undefined ? {} : { minSeconds: o.minSeconds }),
});

/** The ONNX form of each model, opened in the page one at a time (each may be megabytes). */
async function openOnnxInPage<T>(page: Page, items: readonly T[], make: (item: T) => tf.LayersModel): Promise<void> {
  const forms = items.map((item) => onnxFormOf(make(item)));
  for (const f of forms) await call<number>(page, { method: 'openOnnx', req: onnxModel(f) });
}

/** The ONNX form of each model, opened in the page, then timed there together. */
async function timeOnnxInPage<T>(page: Page, items: readonly T[], make: (item: T) => tf.LayersModel, o: RunnerMeasureOptions): Promise<number[][]> {
  await openOnnxInPage(page, items, make);
  return call<number[][]>(page, { method: 'measureOnnx', req: rounds(o) });
}

/** The networks built in the page and kept there (tfjs builds them; ort-web opens their ONNX form), by their page id. */
async function prepareInPage(page: Page, ortWeb: boolean, archs: readonly ArchSpec[], seed = 0): Promise<PreparedArchs> {
  let id: number;
  if (ortWeb) {
    await openOnnxInPage(page, archs, (a) => wholeModel(a, seed).model);
    id = await call<number>(page, { method: 'prepareOnnx', req: null });
  } else {
    id = await call<number>(page, { method: 'prepareArchs', req: { archs, seed } });
  }
  return guardedPrepared(
    archs.map((_, index) => index),
    (index, runs) => call<number[]>(page, { method: 'timePrepared', req: { id, index, runs } }),
    () => call<undefined>(page, { method: 'closePrepared', req: { id } }),
  );
}

const onnxModel = (f: OnnxForm): OnnxModel => ({ onnx: Buffer.from(f.bytes).toString('base64'), dims: f.dims });

/** How the page times entries and whole networks: tfjs builds them there; ort-web gets their ONNX form from here. */
function measuring(page: Page, ortWeb: boolean): Pick<LatencyRunner, 'measureEntries' | 'measureArchs' | 'prepareArchs'> {
  const prepareArchs = (archs: readonly ArchSpec[], o?: PrepareOptions): Promise<PreparedArchs> => prepareInPage(page, ortWeb, archs, o?.seed);
  if (!ortWeb) {
    return {
      measureEntries: async (entries, o) => statsOf(await call<number[][]>(page, { method: 'measureEntries', req: { entries, ...rounds(o) } })),
      measureArchs: async (archs, o) => statsOf(await call<number[][]>(page, { method: 'measureArchs', req: { archs, seed: o.seed ?? 0, ...rounds(o) } })),
      prepareArchs,
    };
  }
  return {
    measureEntries: async (entries, o) => statsOf(await timeOnnxInPage(page, entries, (e) => entryModel(resolve(e.arch), e.piece), o)),
    measureArchs: async (archs, o) => statsOf(await timeOnnxInPage(page, archs, (a) => wholeModel(a, o.seed).model, o)),
    prepareArchs,
  };
}

/** Chromium, headless, with the flags `backend` needs; playwright closes it on SIGINT/SIGTERM/SIGHUP and at exit. */
function launch(backend: PageBackend): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: backend === 'webgl' ? [...CHROMIUM_ARGS, ...WEBGL_ARGS] : [...CHROMIUM_ARGS, '--disable-gpu'],
    handleSIGINT: true,
    handleSIGTERM: true,
    handleSIGHUP: true,
  });
}

/** The page loaded from `origin` and initialised on `backend`. */
async function openPage(browser: Browser, origin: string, backend: PageBackend, threads: number): Promise<{ page: Page; ready: PageReady }> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (globalThis as { nasLatency?: unknown }).nasLatency !== undefined, undefined, { timeout: 30_000 });
  const ready = await call<PageReady>(page, { method: 'init', req: { backend, threads, wasmPath: `${origin}/wasm/`, ortWasmPath: `${origin}/ort/` } });
  if (backend !== 'webgl' && ready.threads !== threads) {
    // Only one thread is asked for today (runner.ts); kept so that a page which runs another count says so.
    throw new NasError('E_BACKEND', `browser runner: asked for ${threads} wasm threads, the page runs ${ready.threads}`);
  }
  return { page, ready };
}

export async function openBrowserRunner(backend: PageBackend, threads: number): Promise<BrowserRunner> {
  if (!existsSync(chromiumPath())) throw new NasError('E_BACKEND', `Chromium not found at ${chromiumPath()}: ${CHROMIUM_FIX}`);
  if (!existsSync(PAGE_JS)) throw new NasError('E_BACKEND', `${PAGE_JS} is missing: run npm run build:web`);
  // ort-web's models are built here by tfjs before conversion: any backend does, so one already chosen is kept.
  if (backend === 'ort-web' && !engine().backendName) await useBackend('cpu');
  const server = await serve();
  let browser: Browser | undefined;
  try {
    browser = await launch(backend);
    const { page, ready } = await openPage(browser, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, backend, threads);
    const opened = browser;
    let closed = false;
    return {
      name: 'browser',
      backend: ready.backend,
      threads: ready.threads,
      machine: `${machineName()}; Chromium ${browser.version()}${ready.renderer === null ? '' : `; WebGL ${ready.renderer}`}${ready.ortVersion === null ? '' : `; onnxruntime-web ${ready.ortVersion}`}`,
      ...measuring(page, backend === 'ort-web'),
      onnxParity: async (spec, seed = 0) => {
        if (backend !== 'ort-web') throw new NasError('E_USAGE', 'onnxParity compares ort-web with tfjs: open the browser runner on ort-web');
        const f = onnxFormOf(parityModel(spec, seed));
        return call<number>(page, { method: 'onnxParity', req: { ...onnxModel(f), arch: spec, seed } });
      },
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
