// Runs a search with the custom evaluator through the `nas` library, then reads the run back read-only.
//   node dist/search.js [results.db] [budget]
import { fileURLToPath } from 'node:url';
import { builtinSpace, type CandidateEvent, type CandidateRecord, openResults, openStore, runSearch, type SearchSettings, spaceSize } from 'nas';

const [dbPath = 'example.db', budgetText = '12'] = process.argv.slice(2);
const budget = Number(budgetText);

const settings: SearchSettings = {
  space: { name: 'mnasnet-small-input' },
  strategy: 'random',
  // The MnasNet reward: accuracy x (MAdds / 60M)^-0.07.
  targets: ['madds=60M'],
  reward: { mode: 'soft' },
  // The compiled evaluator beside this file (an absolute path: workers import it).
  evaluator: fileURLToPath(new URL('./evaluator.js', import.meta.url)),
  evaluatorConfig: { saturationParams: 2_000_000 },
  latency: { kind: 'madds' },
  batch: 4,
  budget,
  timeSeconds: null,
  maxFailures: null,
};

console.log(`space mnasnet-small-input: ${spaceSize(builtinSpace('mnasnet-small-input'))} architectures`);
const store = openStore(dbPath);
let runId: string;
try {
  const onCandidate = (e: CandidateEvent): void => console.log(`#${e.seq} ${e.ok ? 'done' : `failed: ${e.failure}`} reward ${e.reward ?? '-'}`);
  const result = await runSearch(store, settings, { seed: 1, engine: { workers: 0 }, hooks: { onCandidate } });
  runId = result.runId;
  console.log(`run ${result.runId}: ${result.stopReason}, best reward ${result.best[0]?.reward ?? 'none'}`);
} finally {
  store.close();
}

// The read side: a read-only handle with queries only. The last line is the summary as JSON.
const results = openResults(dbPath);
try {
  const done = results.listCandidates(runId).filter((c) => c.status === 'done');
  const best = done.reduce<CandidateRecord | null>((b, c) => (b === null || (c.reward ?? 0) > (b.reward ?? 0) ? c : b), null);
  console.log(JSON.stringify({ runId, done: done.length, best: best === null ? null : { arch: best.arch, reward: best.reward, metrics: best.metrics } }));
} finally {
  results.close();
}
