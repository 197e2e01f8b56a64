import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ArchError, NasError } from '../common/errors.js';
import { openStore } from '../results/store.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch, parseRunRef, runRefDbPath } from '../results/archRef.js';
import { failsWith } from './error-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-load-run-ref-'));
after(() => rmSync(dir, { recursive: true, force: true }));


const arch = (blocks: string[]): string => encodeArch(loadArch(blocks, { input: 28, channels: 1, classes: 10 }));
const A = arch(['ir_k3_s1_x16_c16_re']);
const B = arch(['ir_k5_s2_x48_c24_se_hs']);
const C = arch(['ir_k3_s2_x32_c24_re', 'ir_k3_s1_x72_c24_re']);
const TRAINED = arch(['ds_k3_s1_c16_re']);

const db = join(dir, 'nas.db');
const store = openStore(db);
const search = store.createRun({ kind: 'search', config: { targets: ['latency=15ms'] }, seed: 0 });
// seq 0: done, reward 0.6; seq 1: done, reward 0.8 (the best); seq 2: failed.
for (const [archString, reward] of [
  [A, 0.6],
  [B, 0.8],
  [C, null],
] as const) {
  store.enqueueCandidate({ runId: search.id, arch: archString, evalKey: 'k' });
  const c = store.claimCandidate(search.id, 'w');
  assert.ok(c !== null);
  if (reward === null) store.markCandidateFailed(c.id, 'out of memory');
  else store.markCandidateDone(c.id, { metrics: { accuracy: reward + 0.1 }, reward });
}
const emptySearch = store.createRun({ kind: 'search', config: {} });
store.enqueueCandidate({ runId: emptySearch.id, arch: A, evalKey: 'k' });
const train = store.createRun({ kind: 'train', config: {}, arch: TRAINED });
const latency = store.createRun({ kind: 'latency', config: {} });
const broken = store.createRun({ kind: 'netadapt', config: {}, arch: 'v1_not_an_arch' });
store.close();

test('run:RUN#best is the done candidate with the highest reward, named after the run and candidate', () => {
  const spec = loadArch([`run:${search.id}#best`], { db });
  assert.equal(encodeArch(spec), B);
  assert.equal(spec.name, `${search.id}-c1`);
});

test('run:RUN#N is the candidate with that seq number, whatever its status', () => {
  assert.equal(encodeArch(loadArch([`run:${search.id}#0`], { db })), A);
  assert.equal(encodeArch(loadArch([`run:${search.id}#2`], { db })), C);
});

test('run:RUN is the architecture a train or NetAdapt run recorded', () => {
  const spec = loadArch([`run:${train.id}`], { db });
  assert.equal(encodeArch(spec), TRAINED);
  assert.equal(spec.name, train.id);
});

test('overrides apply to an architecture from the store like to any other', () => {
  const spec = loadArch([`run:${search.id}#best`], { db, input: 32, classes: 5 });
  assert.deepEqual([spec.input.size, spec.classes], [32, 5]);
});

test('without --db a reference reads $NAS_DB, else ./nas.db', () => {
  const saved = process.env['NAS_DB'];
  try {
    process.env['NAS_DB'] = db;
    assert.equal(runRefDbPath(), db);
    assert.equal(encodeArch(loadArch([`run:${search.id}#best`])), B);
    assert.equal(runRefDbPath('other.db'), 'other.db');
    delete process.env['NAS_DB'];
    assert.equal(runRefDbPath(), './nas.db');
  } finally {
    if (saved === undefined) delete process.env['NAS_DB'];
    else process.env['NAS_DB'] = saved;
  }
});

test('references parse into a run id and a pick; malformed ones get a one-line error with the syntax', () => {
  assert.deepEqual(parseRunRef('run:sr-1#best').pick, { kind: 'best' });
  assert.deepEqual(parseRunRef('run:sr-1#12').pick, { kind: 'seq', seq: 12 });
  assert.deepEqual(parseRunRef('run:tf-1').pick, { kind: 'run' });
  failsWith(() => loadArch(['run:sr-1#worst'], { db }), NasError, "'#worst' names no candidate", 'run:RUN#best');
  failsWith(() => loadArch(['run:sr-1#-1'], { db }), NasError, "'#-1'");
  failsWith(() => loadArch(['run:#best'], { db }), NasError, "'' is not a run id");
});

test('an unknown run, a missing candidate or a search without results is a one-line user error', () => {
  failsWith(() => loadArch(['run:sr-nosuch#best'], { db }), NasError, 'run:sr-nosuch#best', 'unknown run sr-nosuch', '`nas runs`');
  failsWith(() => loadArch([`run:${search.id}#7`], { db }), NasError, `has no candidate #7`, '#0 to #2');
  failsWith(() => loadArch([`run:${emptySearch.id}#best`], { db }), NasError, 'has no done candidate yet');
});

test('a reference must fit the kind of run: a candidate of a search, the arch of another run', () => {
  failsWith(() => loadArch([`run:${search.id}`], { db }), NasError, 'is a search', `run:${search.id}#best`);
  failsWith(() => loadArch([`run:${train.id}#best`], { db }), NasError, 'is a train run, not a search', `run:${train.id}`);
  failsWith(() => loadArch([`run:${latency.id}`], { db }), NasError, 'latency run', 'recorded no architecture');
  failsWith(() => loadArch([`run:${broken.id}`], { db }), ArchError, `run:${broken.id}`, 'stored architecture is not valid');
});

test('a missing or foreign database file is named in a one-line error', () => {
  const missing = join(dir, 'none.db');
  failsWith(() => loadArch([`run:${search.id}#best`], { db: missing }), NasError, missing, 'no results database', 'NAS_DB');
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a database');
  failsWith(() => loadArch([`run:${search.id}#best`], { db: text }), NasError, `run:${search.id}#best`, 'not a SQLite database');
});

test('a reference is one architecture: it does not mix with block strings', () => {
  failsWith(() => loadArch([`run:${search.id}#best`, 'ir_k3_s1_x16_c16_re'], { db }), ArchError, 'is not a block string');
});
