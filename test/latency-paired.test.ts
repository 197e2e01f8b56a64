// Paired latency judgement (latency/paired.ts) on a simulated machine whose speed changes while it is measured: a
// runner whose clock is virtual, each network costing its MAdds in microseconds times the machine's load at that
// moment, with a preempted run every 7th. The real runners cannot be made to drift on demand; this one can, and it
// is lent through the same seam (WithRunner) that `nas netadapt --latency measure` lends the node runner through.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { measureArchOn } from '../latency/measure.js';
import { openPairedLatency, pairedRatio, type WithRunner } from '../latency/paired.js';
import type { EntryRef } from '../latency/entryModels.js';
import type { LatencyRunner, RunnerMeasureOptions } from '../latency/runner.js';
import { statsOf } from '../latency/stats.js';
import { openNetadaptLatency } from '../netadapt/latency.js';
import { materialise } from '../netadapt/proposals.js';
import type { ArchSpec } from '../space/arch.js';
import { readLut } from '../latency/lut.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { tinyArch } from './netadapt-helpers.js';

/** A network's cost on the simulated machine at load 1: its MAdds, 1 ms per 1M. */
const costMs = (spec: ArchSpec): number => costOf(resolve(spec)).madds / 1e6;

/** A piece of a network's cost at load 1: the MAdds of its layers (a LUT entry is the stem, a block or the head). */
function pieceMs(ref: EntryRef): number {
  const a = resolve(ref.arch);
  const p = ref.piece;
  const prefix = p.kind === 'stem' ? 'stem' : p.kind === 'head' ? 'head.' : `${a.blocks[p.index]?.path ?? '?'}.`;
  return costOf(a).layers.filter((l) => l.path.startsWith(prefix)).reduce((t, l) => t + l.madds, 0) / 1e6;
}

/** A machine whose load at virtual time t (ms) is `load(t)`; every 7th run is preempted (5x longer). */
function simulatedMachine(load: (t: number) => number): { runner: LatencyRunner; lend: WithRunner; now: () => number } {
  let t = 0;
  let n = 0;
  const run = (ms: number): number => {
    const dt = ms * load(t) * (++n % 7 === 0 ? 5 : 1);
    t += dt;
    return dt;
  };
  // As timing.ts's timeInterleaved: each round times every model in turn, the warm-up in the first round.
  const interleaved = async (costs: readonly number[], o: RunnerMeasureOptions) => {
    const per = Math.ceil(o.runs / o.rounds);
    const samples = costs.map((): number[] => []);
    for (let r = 0; r < o.rounds; r++) {
      costs.forEach((ms, i) => {
        for (let w = 0; w < (r === 0 ? o.warmup : 1); w++) run(ms);
        for (let k = 0; k < per; k++) samples[i]?.push(run(ms));
      });
    }
    return statsOf(samples);
  };
  const runner: LatencyRunner = {
    name: 'node', backend: 'simulated', threads: 1, machine: 'simulated',
    measureEntries: (entries, o) => interleaved(entries.map(pieceMs), o),
    measureArchs: (archs, o) => interleaved(archs.map(costMs), o),
    close: async () => undefined,
  };
  return { runner, lend: (fn) => fn(runner), now: () => t };
}

const dir = mkdtempSync(join(tmpdir(), 'nas-paired-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const seed = materialise(tinyArch());
const narrower = materialise({ ...seed, width: 0.75 });
const trueRatio = costMs(narrower) / costMs(seed);

describe('paired latency judgement', () => {
  it('the simulated networks differ as a NetAdapt step would: the narrower costs 0.6-0.95 of the seed', () => {
    assert.ok(trueRatio > 0.6 && trueRatio < 0.95, `true ratio ${trueRatio}`);
  });

  it('a machine that speeds up after the seed was timed does not read as pruning', async () => {
    // Loaded (2x slower) while the seed is timed, quiet after: the case.
    let loaded = true;
    const m = simulatedMachine(() => (loaded ? 2 : 1));
    const paired = await openPairedLatency(seed, m.lend, { rounds: 30, warmup: 3 });
    // The old judgement: the seed timed once at the start, each network alone later.
    const seedAlone = (await measureArchOn(m.runner, seed, { warmup: 3, runs: 10 })).medianMs;
    loaded = false;
    const alone = (await measureArchOn(m.runner, narrower, { warmup: 3, runs: 10 })).medianMs;
    assert.ok(alone / seedAlone < 0.6 * trueRatio, `the single reference is fooled: ${alone / seedAlone} (true ${trueRatio})`);
    // Paired: the narrower network timed in alternation with the seed, now that the machine is quiet.
    const judged = (await paired.latency(narrower)) / paired.referenceMs;
    assert.ok(Math.abs(judged - trueRatio) < 0.02 * trueRatio, `paired ${judged}, true ${trueRatio}`);
  });

  it('a machine that slows down in the middle of a judgement does not change it either', async () => {
    let switchAt = Number.POSITIVE_INFINITY;
    const loads = [(t: number) => (t < switchAt ? 1 : 3), (t: number) => 1 + (Math.floor(t / 7) % 2)];
    for (const load of loads) {
      const m = simulatedMachine(load);
      const paired = await openPairedLatency(seed, m.lend, { rounds: 30, warmup: 3 });
      switchAt = m.now() + 100;
      const { ms, upperMs } = await paired.remeasure(narrower, 6);
      assert.ok(m.now() > switchAt + 100, 'the load changed inside the judgement');
      const judged = ms / paired.referenceMs;
      assert.ok(Math.abs(judged - trueRatio) < 0.02 * trueRatio, `paired ${judged}, true ${trueRatio}`);
      assert.ok(upperMs >= ms, `upper ${upperMs} < ${ms}`);
      // The judgement is kept: asked again, the same figure.
      assert.equal(await paired.latency(narrower), ms);
    }
  });

  it("NetAdapt's measure source sizes steps by a LUT of the seed, in the seed's terms, and judges the target paired", async () => {
    let loaded = true;
    const m = simulatedMachine(() => (loaded ? 2 : 1));
    const path = join(dir, 'step-lut.json');
    const lat = await openNetadaptLatency({ kind: 'measure' }, { seed, backend: 'wasm', withRunner: m.lend, lutPath: path });
    const seedMs = await lat.latency(seed);
    loaded = false;
    // The step figure: the seed's paired reference x the table's ratio, the same however often it is asked.
    const stepped = await lat.latency(narrower);
    assert.ok(Math.abs(stepped / seedMs - trueRatio) < 0.02 * trueRatio, `step figure ${stepped / seedMs}, true ${trueRatio}`);
    assert.equal(await lat.latency(narrower), stepped);
    // A shape the table lacks is measured into it and the file.
    const added = lat.added();
    const other = materialise({ ...seed, width: 0.6 });
    assert.ok(Math.abs((await lat.latency(other)) / seedMs - costMs(other) / costMs(seed)) < 0.02 * (costMs(other) / costMs(seed)));
    assert.ok(lat.added() > added && Object.keys(readLut(path).entries).length > 0);
    // The judgement: paired against the seed, with an interval.
    const c = await lat.confirm(narrower);
    assert.ok(c.upperMs >= c.ms && Math.abs(c.ms / seedMs - trueRatio) < 0.02 * trueRatio, JSON.stringify(c));
    // Two networks compared directly (the width baseline against the result), the machine loaded again meanwhile.
    loaded = true;
    const narrowest = materialise({ ...seed, width: 0.5 });
    const direct = await lat.compare(narrower, narrowest);
    const want = costMs(narrowest) / costMs(narrower);
    assert.ok(Math.abs(direct - want) < 0.02 * want, `compared ${direct}, true ${want}`);
    await lat.close();
    // A resumed run reads the table back: its steps are sized as before.
    const again = await openNetadaptLatency({ kind: 'measure' }, { seed, backend: 'wasm', withRunner: simulatedMachine(() => 1).lend, lutPath: path });
    assert.ok(Math.abs((await again.latency(other)) / (await again.latency(seed)) - (await lat.latency(other)) / seedMs) < 1e-9);
  });
});

describe('pairedRatio', () => {
  it('is the ratio of the 10th percentiles, and bounds it by the spread of its stretches', () => {
    const ref = Array.from({ length: 60 }, (_, i) => 1 + (i % 10) / 10);
    const cand = ref.map((v) => 0.5 * v);
    const r = pairedRatio(ref, cand, 6);
    assert.ok(Math.abs(r.ratio - 0.5) < 1e-12 && Math.abs(r.upper - 0.5) < 1e-12, JSON.stringify(r));
    // Stretches that disagree widen the interval; one stretch gives none.
    const noisy = cand.map((v, i) => (i < 30 ? v : 1.2 * v));
    const n = pairedRatio(ref, noisy, 6);
    assert.ok(n.upper > n.ratio + 0.01, JSON.stringify(n));
    assert.equal(pairedRatio(ref, noisy).upper, pairedRatio(ref, noisy).ratio);
    assert.throws(() => pairedRatio([], []), RangeError);
  });
});
