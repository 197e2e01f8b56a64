// A search run stores its proxy settings with every default named, so that a later change of a default (the proxy's
// input size went from 16 px to the architecture's own) changes neither what a stored run means when resumed nor which
// stored results a new run may reuse. A run stored before that (its config as given) resumes with the old defaults.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isJsonObject, type JsonValue } from '../common/json.js';
import { completeProxyJson, proxyConfigKeys } from '../proxy-train/config.js';
import { openStore } from '../results/store.js';
import { resumeSearch, runSearch, type SearchSettings } from '../search/loop.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-proxy-complete-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('completing names every key; it keeps what is given, and a legacy config without input meant 16 px', () => {
  const c = completeProxyJson({ proxyImages: 512 }, false);
  assert.deepEqual(Object.keys(c).sort(), [...proxyConfigKeys].sort());
  assert.equal(c['input'], null);
  assert.equal(c['proxyImages'], 512);
  assert.deepEqual(completeProxyJson(c, false), c);
  assert.deepEqual(completeProxyJson(c, true), c, 'a complete config is never legacy');
  assert.equal(completeProxyJson({}, true)['input'], 16);
  assert.equal(completeProxyJson({ input: null }, true)['input'], null);
  assert.equal(completeProxyJson({ input: 24 }, true)['input'], 24);
});

// One candidate of the 32 px small-input space, proxy-trained on 64 MNIST images: the metrics say the size trained at.
const tiny = { proxyImages: 64, valImages: 32, batchSize: 32 };
const inputOf = (metrics: JsonValue | null | undefined): JsonValue | undefined => (isJsonObject(metrics) ? metrics['input'] : undefined);

const settings: SearchSettings = {
  space: { name: 'mnasnet-small-input' },
  strategy: 'random',
  targets: ['latency=20ms'],
  reward: { mode: 'soft' },
  evaluator: 'proxy',
  evaluatorConfig: tiny,
  latency: { kind: 'madds' },
  batch: 1,
  budget: 1,
  timeSeconds: null,
  maxFailures: null,
};

test('a new run stores the completed config and trains at the arch size; a legacy stored run resumes at 16 px', async () => {
  const store = openStore(join(dir, 'runs.db'));
  try {
    const fresh = await runSearch(store, settings, { seed: 1, engine: { workers: 0 } });
    const stored = store.requireRun(fresh.runId).config;
    assert.ok(isJsonObject(stored) && isJsonObject(stored['evaluatorConfig']));
    assert.deepEqual(stored['evaluatorConfig'], completeProxyJson(tiny, false));
    const [c] = store.listCandidates(fresh.runId);
    assert.equal(inputOf(c?.metrics), 32);

    // As a version before completion stored it: the config as given. Resumed, it keeps the default it started with.
    const legacy = store.createRun({ kind: 'search', config: settings, seed: 1 });
    const resumed = await resumeSearch(store, legacy.id, { budget: 1 }, { engine: { workers: 0 } });
    const [l] = store.listCandidates(resumed.runId);
    assert.equal(l?.status, 'done');
    assert.equal(inputOf(l?.metrics), 16);
  } finally {
    store.close();
  }
});
