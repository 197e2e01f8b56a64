import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configTargets } from '../cli/results.js';
import { parseTarget } from '../latency/targets.js';
import type { CandidateRecord } from '../results/candidates.js';
import { candidateTable, csvField, toCsv } from '../results/export.js';
import type { JsonValue } from '../common/json.js';
import { candidateFront, type ParetoPoint, paretoFront } from '../results/pareto.js';
import { formatTick, niceAxis, paretoSvg } from '../results/svg.js';
import { rng } from './random.js';

const pt = (x: number, y: number, item = `${x}/${y}`): ParetoPoint<string> => ({ x, y, item });
const items = (ps: readonly ParetoPoint<string>[]): string[] => ps.map((p) => p.item);

/** The definition, checked pair by pair. */
function dominated(p: ParetoPoint<string>, all: readonly ParetoPoint<string>[]): boolean {
  return all.some((q) => q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y));
}

test('the front keeps exactly the points no other point beats on both accuracy and cost', () => {
  const front = paretoFront([pt(10, 0.9, 'a'), pt(5, 0.8, 'b'), pt(12, 0.85, 'c'), pt(3, 0.5, 'd'), pt(6, 0.7, 'e')]);
  assert.deepEqual(items(front), ['d', 'b', 'a']);
});

test('the front agrees with the pairwise definition on random points with many ties', () => {
  const r = rng(7);
  for (let trial = 0; trial < 50; trial++) {
    // Coarse values so that equal costs, equal accuracies and exact duplicates are common.
    const ps = Array.from({ length: 40 }, (_, i) => pt(Math.floor(r() * 8), Math.floor(r() * 6) / 10, String(i)));
    const front = paretoFront(ps);
    const expected = ps.filter((p) => !dominated(p, ps));
    // One point per distinct (x, y) of the non-dominated set, the first one given.
    const firsts = expected.filter((p, i) => expected.findIndex((q) => q.x === p.x && q.y === p.y) === i);
    assert.deepEqual(new Set(items(front)), new Set(items(firsts)), `trial ${trial}`);
    for (let i = 1; i < front.length; i++) {
      assert.ok((front[i]?.x ?? 0) > (front[i - 1]?.x ?? 0), 'strictly increasing cost');
      assert.ok((front[i]?.y ?? 0) > (front[i - 1]?.y ?? 0), 'strictly increasing accuracy');
    }
  }
});

test('of equal points the first stands for all; of equal cost only the most accurate stays', () => {
  assert.deepEqual(items(paretoFront([pt(5, 0.8, 'first'), pt(5, 0.8, 'second')])), ['first']);
  assert.deepEqual(items(paretoFront([pt(5, 0.7, 'low'), pt(5, 0.8, 'high'), pt(4, 0.8, 'cheaper')])), ['cheaper']);
  assert.deepEqual(items(paretoFront([pt(5, 0.8, 'slow'), pt(4, 0.8, 'fast')])), ['fast']);
});

test('points with a non-finite cost or accuracy are ignored, and an empty input has an empty front', () => {
  assert.deepEqual(items(paretoFront([pt(Number.NaN, 0.99, 'nan'), pt(1, Number.POSITIVE_INFINITY, 'inf'), pt(2, 0.5, 'ok')])), ['ok']);
  assert.deepEqual(paretoFront([]), []);
});

function cand(seq: number, metrics: unknown, status: CandidateRecord['status'] = 'done'): CandidateRecord {
  return {
    id: 100 + seq,
    runId: 'sr-1',
    seq,
    arch: `arch-${seq}`,
    evalKey: 'k',
    status,
    decisions: [seq, 1],
    metrics: metrics as CandidateRecord['metrics'],
    reward: status === 'done' ? 0.5 : null,
    failure: status === 'failed' ? 'out of memory, "oops"' : null,
    attempts: 1,
    worker: 'w',
    queuedAt: '2026-11-29T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
  };
}

test('a run front reads accuracy and the chosen cost from the metrics and counts the candidates it skips', () => {
  const cs = [
    cand(0, { accuracy: 0.9, latencyMs: 20, madds: 5e6 }),
    cand(1, { accuracy: 0.8, latencyMs: 10, madds: 9e6 }),
    cand(2, { accuracy: 0.95 }), // no latency
    cand(3, { accuracy: 'high', latencyMs: 1 }), // not a number
    cand(4, null, 'failed'),
  ];
  const byLatency = candidateFront(cs, 'latency');
  assert.equal(byLatency.xMetric, 'latencyMs');
  assert.deepEqual(byLatency.front.map((p) => p.item.seq), [1, 0]);
  assert.equal(byLatency.points.length, 2);
  assert.equal(byLatency.skipped, 2);
  const byMadds = candidateFront(cs, 'madds');
  assert.deepEqual(byMadds.front.map((p) => p.item.seq), [0]);
});

test('axes run between multiples of a 1-2-5 step that cover the data', () => {
  const a = niceAxis([0.613, 0.982]);
  assert.equal(a.step, 0.1);
  assert.deepEqual(a.ticks, [0.6, 0.7, 0.8, 0.9, 1]);
  const b = niceAxis([3.2, 41.5, 15], 6);
  assert.equal(b.step, 10);
  assert.deepEqual([b.min, b.max], [0, 50]);
  const one = niceAxis([12]);
  assert.ok(one.min < 12 && one.max > 12 && one.ticks.length >= 2);
});

test('tick labels use the axis unit and as many decimals as the step', () => {
  const m = niceAxis([12e6, 61e6]);
  assert.equal(formatTick(60e6, m), '60M');
  const p = niceAxis([2.41e6, 2.49e6]);
  assert.equal(formatTick(2.44e6, p), '2.44M');
  const acc = niceAxis([0.61, 0.98]);
  assert.equal(formatTick(0.7000000000000001, acc), '0.7');
  assert.equal(formatTick(-1e-17, niceAxis([-0.5, 0.5])), '0.0');
});

test('the plot draws every candidate, the connected front, the target line and escaped labels', () => {
  const svg = paretoSvg({
    title: 'run <a&b>',
    xLabel: 'latency (ms)',
    yLabel: 'accuracy',
    points: [
      { x: 10, y: 0.8 },
      { x: 20, y: 0.9 },
      { x: 30, y: 0.85 },
    ],
    front: [
      { x: 20, y: 0.9, label: '#1 "b"' },
      { x: 10, y: 0.8 },
    ],
    target: { x: 25, label: 'target 25 ms' },
  });
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('run &lt;a&amp;b&gt;'));
  assert.ok(svg.includes('<title>#1 &quot;b&quot;</title>'));
  const group = (name: string): string => new RegExp(`<g class="${name}"[^>]*>([\\s\\S]*?)</g>`).exec(svg)?.[1] ?? '';
  assert.equal((group('candidates').match(/<circle /g) ?? []).length, 3);
  assert.equal((group('front').match(/<circle /g) ?? []).length, 2);
  // The front's line runs by increasing latency: the 10 ms point first.
  const poly = /<polyline points="([^"]+)"/.exec(group('front'))?.[1]?.split(' ') ?? [];
  assert.equal(poly.length, 2);
  const [x0 = Number.NaN, x1 = Number.NaN] = poly.map((p) => Number(p.split(',')[0]));
  assert.ok(x0 < x1);
  // The target's line is vertical, between the 20 and 30 ms ticks.
  const line = /<line x1="([\d.]+)" y1="[\d.]+" x2="([\d.]+)"/.exec(group('target'));
  assert.ok(line !== null);
  assert.equal(line[1], line[2]);
  const tick = (label: string): number => Number(new RegExp(`<text x="([\\d.]+)"[^>]*>${label}</text>`).exec(svg)?.[1]);
  assert.ok(tick('20') < Number(line[1]) && Number(line[1]) < tick('30'));
  assert.ok(svg.includes('>latency (ms)</text>') && svg.includes('>accuracy</text>'));
});

test('a plot without a target has no target line', () => {
  const svg = paretoSvg({ title: 't', xLabel: 'x', yLabel: 'y', points: [{ x: 1, y: 0.5 }], front: [{ x: 1, y: 0.5 }] });
  assert.ok(!svg.includes('class="target"'));
  assert.ok(!svg.includes('<polyline'));
});

test('CSV fields with commas, quotes, line breaks or edge spaces are quoted, quotes doubled', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField(' pad'), '" pad"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(0.1), '0.1');
});

test('the export table has the main metrics first, other metrics by name, and an empty cell for what is missing', () => {
  const t = candidateTable([
    cand(0, { accuracy: 0.9, latencyMs: 20, trainSeconds: 3, status: 'x', curve: [1, 2] }),
    cand(1, null, 'failed'),
  ]);
  assert.deepEqual(t.columns.slice(0, 12), [
    'runId', 'id', 'seq', 'status', 'reward', 'accuracy', 'latencyMs', 'madds', 'params', 'curve', 'metrics.status', 'trainSeconds',
  ]);
  const csv = toCsv(t).split('\n');
  assert.equal(csv.length, 4); // header, two rows, the final newline
  assert.match(csv[1] ?? '', /^sr-1,100,0,done,0.5,0.9,20,,,"\[1,2\]",x,3,arch-0,0 1,/);
  assert.match(csv[2] ?? '', /^sr-1,101,1,failed,,,,,,,,,arch-1,1 1,"out of memory, ""oops""",1,w,k,/);
});

test("a run's targets are read as typed or as parsed Targets; relative and unreadable ones are left out", () => {
  const targets = configTargets({
    targets: ['latency=15ms', parseTarget('madds=60M') as unknown as JsonValue, 'latency=0.8x', 'params=lots', 7],
  });
  assert.deepEqual(targets.map((t) => [t.resource, t.value]), [['latency', 15], ['madds', 60e6]]);
  assert.deepEqual(configTargets({ target: 'params=2M' }).map((t) => t.value), [2e6]);
  assert.deepEqual(configTargets(null), []);
});
