// The report page's data of a NetAdapt run: each step's kept proposal (what it shrank, latency, accuracy after the
// short fine-tune) from netadapt_iterations, and the seed, the result and the width baseline from the run's result.
// The store cannot read these with netadapt/stored.ts (a layer above), so it reads them leniently: a field that is
// missing or of another shape is shown blank, not refused (the report draws whatever a run has so far).
import { isJsonObject, type JsonValue } from '../common/json.js';
import type { NetadaptIterationRecord } from './netadapt.js';
import { runHeader } from './reportHeader.js';
import type { NetadaptNetwork, NetadaptReport, NetadaptStep } from './reportTypes.js';
import type { RunRecord } from './runs.js';
import type { Store } from './store.js';

const at = (v: JsonValue | undefined, key: string): JsonValue | undefined => (isJsonObject(v) ? v[key] : undefined);
const num = (v: JsonValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: JsonValue | undefined): string | null => (typeof v === 'string' ? v : null);

function step(it: NetadaptIterationRecord): NetadaptStep {
  const proposals = Array.isArray(it.proposals) ? it.proposals : [];
  return {
    iteration: it.iteration,
    what: str(at(it.chosen ?? undefined, 'what')),
    latencyPredictedMs: it.latencyPredictedMs,
    latencyMeasuredMs: it.latencyMeasuredMs,
    accuracy: it.accuracy,
    proposals: proposals.length,
    failedProposals: proposals.filter((p) => str(at(p, 'error')) !== null).length,
  };
}

/** A trained network of the result (netadapt/types.ts TrainedResult), with its joint measurement. */
function trained(name: NetadaptNetwork['name'], t: JsonValue | undefined, measuredMs: number | null): NetadaptNetwork | null {
  if (!isJsonObject(t)) return null;
  return {
    name,
    latencyPredictedMs: num(t['latencyPredictedMs']),
    latencyMeasuredMs: measuredMs ?? num(t['latencyMeasuredMs']),
    valAccuracy: num(t['valAccuracy']),
    testTop1: num(at(t['test'], 'top1')),
    params: num(t['params']),
    width: num(t['width']),
  };
}

function networks(result: JsonValue | null): NetadaptNetwork[] {
  const r = result ?? undefined;
  const measured = at(r, 'measured');
  const seed = at(r, 'seed');
  const out: (NetadaptNetwork | null)[] = [
    isJsonObject(seed)
      ? { name: 'seed', latencyPredictedMs: num(seed['latencyMs']), latencyMeasuredMs: num(at(measured, 'seedMs')), valAccuracy: num(seed['valAccuracy']), testTop1: null, params: null, width: null }
      : null,
    trained('netadapt', at(r, 'final'), num(at(measured, 'finalMs'))),
    trained('width baseline', at(r, 'baseline'), num(at(measured, 'baselineMs'))),
  ];
  return out.filter((n): n is NetadaptNetwork => n !== null);
}

export function netadaptReport(store: Store, run: RunRecord): NetadaptReport {
  const r = run.result ?? undefined;
  return {
    kind: 'netadapt',
    ...runHeader(run),
    targetMs: num(at(r, 'targetMs')),
    message: str(at(r, 'message')),
    verdict: str(at(at(r, 'measured'), 'verdict')),
    steps: store.listNetadaptIterations(run.id).map(step),
    networks: networks(run.result),
  };
}
