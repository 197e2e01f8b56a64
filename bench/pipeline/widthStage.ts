// Stage (f): the reference scaled by a uniform width multiplier to the best searched network's measured latency,
// found by NetAdapt's `--baseline width` bisection (netadapt/final.ts `baselineWidth`) with NetAdapt's default
// `measure` source: each width timed in alternation with the searched network and judged by the ratio, so the
// machine's drift cancels. Then trained like every other network.
import { isJsonObject, type JsonValue } from '../../common/json.js';
import { baselineWidth } from '../../netadapt/final.js';
import { openNetadaptLatency } from '../../netadapt/latency.js';
import type { ArchSpec } from '../../space/arch.js';
import type { Trainer } from '../fidelity/training.js';
import { type Network, parseNetwork, trainNetwork } from './networks.js';
import { numberAt, type Say } from './record.js';

export type WidthStageResult = {
  readonly width: number;
  /** The searched network's latency and the baseline's as the bisection judged them (ms). */
  readonly searchedMs: number;
  readonly baselineMs: number;
  readonly network: Network;
};

export function parseWidthStage(v: JsonValue): WidthStageResult | null {
  if (!isJsonObject(v)) return null;
  const [width, searchedMs, baselineMs] = [numberAt(v, 'width'), numberAt(v, 'searchedMs'), numberAt(v, 'baselineMs')];
  const network = v['network'] === undefined ? null : parseNetwork(v['network']);
  return width === null || searchedMs === null || baselineMs === null || network === null ? null : { width, searchedMs, baselineMs, network };
}

export interface WidthStageOptions {
  readonly reference: ArchSpec;
  readonly searched: ArchSpec;
  /** A/B rounds per judgement (NetAdapt's default 30). */
  readonly rounds: number;
  readonly seeds: number;
}

export async function widthStage(o: WidthStageOptions, trainer: Trainer, say: Say): Promise<WidthStageResult> {
  say('[width] bisecting the reference\'s width multiplier to the best searched network\'s measured latency');
  const latency = await openNetadaptLatency({ kind: 'measure' }, { seed: o.searched, backend: 'wasm', rounds: o.rounds });
  let b: Awaited<ReturnType<typeof baselineWidth>>;
  let searchedMs: number;
  try {
    searchedMs = await latency.latency(o.searched);
    b = await baselineWidth(o.reference, { spec: o.searched, ms: searchedMs }, latency);
  } finally {
    await latency.close();
  }
  say(`[width] width ${b.width.toFixed(3)}: ${b.ms.toFixed(3)} ms against the searched network's ${searchedMs.toFixed(3)} ms`);
  const network = await trainNetwork(trainer, `width-x${b.width.toFixed(3)}`, b.spec, o.seeds, say);
  return { width: b.width, searchedMs, baselineMs: b.ms, network };
}
