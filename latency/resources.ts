// The resource model: latency, MAdds and parameters of an architecture, from the resolved IR. Latency comes from
// one of the sources a user names with `--latency`: `lut:FILE` (sum of lookup-table entries, predict.ts),
// `measure` (the whole network timed on the local backend), `madds` (MAdds stand in for latency: 1 ms per 1M MAdds,
// for a search that has no device), `paired:REF` (each network timed in alternation with a reference network and
// judged by the ratio, so a machine's drift between candidates cancels: paired.ts), or `module:FILE` (a user's
// module exporting `latency(arch)` in milliseconds).
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NasError, UsageError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeArch, encodeArch } from '../space/blockString.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { type Lut, readLut } from './lut.js';
import { measureArchOn } from './measure.js';
import { pairedLatency, SEARCH_JUDGEMENT } from './paired.js';
import { missingError, predictLatency } from './predict.js';
import { lendRunner } from './searchRunner.js';
import type { SourceRunner } from './sourceRunner.js';
import type { Resource } from './targets.js';

export type LatencySourceSpec =
  | { readonly kind: 'lut'; readonly path: string }
  /** `runner`: where the networks are timed (sourceRunner.ts; absent: node, wasm, one thread). */
  | { readonly kind: 'measure'; readonly runner?: SourceRunner }
  | { readonly kind: 'madds' }
  | { readonly kind: 'module'; readonly path: string }
  /**
   * `reference`: the canonical arch string (as typed until the command resolves it); `referenceMs`: its latency,
   * measured once when the run starts (null until then), the scale every judged ratio is multiplied by.
   */
  | { readonly kind: 'paired'; readonly reference: string; readonly referenceMs: number | null; readonly runner?: SourceRunner };

/** Parse `--latency lut:FILE | measure | madds | paired:REF | module:FILE`. */
export function parseLatencySource(text: string): LatencySourceSpec {
  const t = text.trim();
  if (t === 'measure' || t === 'madds') return { kind: t };
  if (t.startsWith('paired:') && t.length > 'paired:'.length) return { kind: 'paired', reference: t.slice('paired:'.length), referenceMs: null };
  const m = /^(lut|module):(.+)$/.exec(t);
  if (m !== null && m[1] !== undefined && m[2] !== undefined) {
    const path = isAbsolute(m[2]) ? m[2] : resolvePath(m[2]);
    return m[1] === 'lut' ? { kind: 'lut', path } : { kind: 'module', path };
  }
  throw new UsageError(`--latency ${text}: expected lut:FILE, measure, madds, paired:REF or module:FILE`);
}

export type ResourceValues = Readonly<Record<Resource, number>>;

/** What measure-based latency uses. */
export interface MeasureSettings {
  readonly warmup: number;
  readonly runs: number;
}

export interface ResourceModel {
  readonly source: LatencySourceSpec;
  /** Milliseconds; for the madds source, MAdds / 1e6. */
  latency(spec: ArchSpec): Promise<number>;
  /** Latency, MAdds and parameters. */
  resources(spec: ArchSpec): Promise<ResourceValues>;
}

type UserLatency = (arch: ArchSpec) => number | Promise<number>;

async function loadUserLatency(path: string): Promise<UserLatency> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new NasError('E_IO', `--latency module:${path}: cannot load (${(e as Error).message.split('\n')[0]})`);
  }
  const fn = mod['latency'] ?? (mod['default'] as Record<string, unknown> | undefined)?.['latency'];
  if (typeof fn !== 'function') {
    throw new UsageError(`--latency module:${path}: the module must export a function latency(arch) returning milliseconds`);
  }
  return fn as UserLatency;
}

function checkMs(ms: number, where: string): number {
  if (!(Number.isFinite(ms) && ms > 0)) throw new NasError('E_USAGE', `${where} returned latency ${ms}; expected a positive number of ms`);
  return ms;
}

/**
 * A search's judgements against its reference: paired.ts's A/B measurement per network (both timed in alternation on
 * the source's runner, by default the local wasm backend, 30 rounds: about 0.3 s at 32 px, against a minute of proxy
 * training), the ratio times the reference's figure from the run's start. A network asked for again keeps its first
 * figure.
 */
function pairedSource(source: LatencySourceSpec & { kind: 'paired' }): (spec: ArchSpec) => Promise<number> {
  const { reference, referenceMs } = source;
  if (referenceMs === null || !(referenceMs > 0)) {
    throw new NasError('E_USAGE', `--latency paired:${reference.slice(0, 40)}: the reference's latency was not measured (resolve the source with resolvePairedSource first)`);
  }
  const judged = pairedLatency(decodeArch(reference, 'reference'), referenceMs, lendRunner(source.runner), SEARCH_JUDGEMENT);
  return (spec) => judged.latency(spec);
}

/** The resource model for a latency source (a LUT is read once; a module is imported once). */
export async function createResourceModel(
  source: LatencySourceSpec,
  measure: MeasureSettings = { warmup: 3, runs: 10 },
): Promise<ResourceModel> {
  let lat: (spec: ArchSpec) => Promise<number>;
  switch (source.kind) {
    case 'lut': {
      const lut: Lut = readLut(source.path);
      lat = async (spec) => {
        const p = predictLatency(lut, spec);
        if (p.missing.length > 0) throw missingError(p.missing, encodeArch(spec), lut.input[0], source.path);
        return p.predictedMs;
      };
      break;
    }
    case 'measure': {
      const withRunner = lendRunner(source.runner);
      lat = async (spec) => (await withRunner((r) => measureArchOn(r, spec, measure))).medianMs;
      break;
    }
    case 'madds':
      lat = async (spec) => costOf(resolve(spec)).madds / 1e6;
      break;
    case 'module': {
      const fn = await loadUserLatency(source.path);
      lat = async (spec) => checkMs(await fn(spec), `--latency module:${source.path}`);
      break;
    }
    case 'paired':
      lat = pairedSource(source);
      break;
  }
  return {
    source,
    latency: lat,
    async resources(spec) {
      const cost = costOf(resolve(spec));
      return { latency: await lat(spec), madds: cost.madds, params: cost.params };
    },
  };
}
