// The final measurement: every network timed together, in interleaved rounds in one session on the node runner
// (netadapt/measure.ts `measureTogether`, NetAdapt's end-of-run measurement), so that a spell of load falls on all
// of them alike and their latencies compare on one clock.
import { isJsonObject, type JsonValue } from '../../common/json.js';
import { measureTogether } from '../../netadapt/measure.js';
import { decodeArch } from '../../space/blockString.js';
import type { Network } from './networks.js';
import { numberAt, type Say } from './record.js';

/** Measured latency (ms, the 10th percentile of the interleaved runs) by network name. */
export type Measured = { readonly [name: string]: number };

export function parseMeasured(v: JsonValue): Measured | null {
  if (!isJsonObject(v)) return null;
  const out: Record<string, number> = {};
  for (const k of Object.keys(v)) {
    const ms = numberAt(v, k);
    if (ms === null || !(ms > 0)) return null;
    out[k] = ms;
  }
  return out;
}

export async function measureStage(networks: readonly Network[], runs: number, say: Say): Promise<Measured> {
  say(`[measure] ${networks.length} networks timed together, ${runs} runs each`);
  const ms = await measureTogether(networks.map((n) => decodeArch(n.arch, n.name)), runs, 'wasm');
  const out: Record<string, number> = {};
  networks.forEach((n, i) => {
    const v = ms[i];
    if (v === undefined || !(v > 0)) throw new Error(`the measurement of ${n.name} returned ${v}`);
    out[n.name] = v;
  });
  say(`[measure] ${networks.map((n) => `${n.name} ${(out[n.name] ?? 0).toFixed(3)} ms`).join(', ')}`);
  return out;
}
