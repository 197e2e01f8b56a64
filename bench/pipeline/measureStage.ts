// The final measurement: each network timed in alternation with the reference alone (netadapt/measure.ts
// `measureAgainstSeed`, NetAdapt's end-of-run measurement), three passes, and given as the reference's figure times
// the median of its per-pass ratios. Pairs, not one rotation of all networks: a third network in the rotation changes
// the cache state each one runs in, and so the ratio the claim is about (docs/NETADAPT.md).
import { isJsonObject, type JsonValue } from '../../common/json.js';
import { CONTENTION_CORES, disturbed, withContention } from '../../latency/contention.js';
import { measureAgainstSeed } from '../../netadapt/measure.js';
import { decodeArch } from '../../space/blockString.js';
import type { Network } from './networks.js';
import { numberAt, type Say } from './record.js';

/** Measured latency (ms: the reference's 10th percentile, the others' paired ratio to it times that) by network name. */
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

/** `networks[0]` is the reference every other network is paired with. */
export async function measureStage(networks: readonly Network[], runs: number, say: Say): Promise<Measured> {
  const [reference, ...others] = networks;
  if (reference === undefined) throw new Error('the measure stage needs the reference network');
  say(`[measure] ${others.length} networks, each timed in alternation with ${reference.name}, ${runs} runs a pass, 3 passes`);
  const decode = (n: Network) => decodeArch(n.arch, n.name);
  const { value, otherCores } = await withContention(() => measureAgainstSeed(decode(reference), others.map(decode), runs, 'wasm'));
  if (otherCores !== null && otherCores > CONTENTION_CORES) say(`[measure] ${disturbed('the measurement', otherCores)}`);
  const out: Record<string, number> = { [reference.name]: value.seedMs };
  others.forEach((n, i) => {
    out[n.name] = value.ms[i] ?? Number.NaN;
  });
  for (const [name, ms] of Object.entries(out)) if (!(ms > 0)) throw new Error(`the measurement of ${name} returned ${ms}`);
  say(`[measure] ${networks.map((n) => `${n.name} ${(out[n.name] ?? 0).toFixed(3)} ms`).join(', ')}`);
  return out;
}
