import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { CIFAR_TEST_FILE, CIFAR_TRAIN_FILES } from '../data/cifar10.js';
import { downloadCifar10 } from '../data/download.js';
import { loadDataset } from '../data/load.js';
import { readTar } from '../data/tar.js';
import { type CliOptions, commandHarness, runCliAsync } from './cli-helpers.js';
import { cifarBytes, gzip, rejectsWith, tarBytes, tempDir } from './data-helpers.js';

const tmp = tempDir('download');
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

/** An archive laid out like the official one: cifar-10-batches-bin/ with 3-record batches, meta and readme. */
const files = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE].map((name, f) => ({
  name: `cifar-10-batches-bin/${name}`,
  data: cifarBytes([f, f + 1, f + 2], (i) => new Uint8Array(3072).fill(f * 3 + i)),
}));
const meta = { name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n') };
const readme = { name: 'cifar-10-batches-bin/readme.html', data: Buffer.from('<p>readme</p>') };
const archive = gzip(tarBytes([...files, meta, readme]));
const partial = gzip(tarBytes(files.slice(1)));

let server: Server;
let base = '';
let requests = 0;
before(async () => {
  server = createServer((req, res) => {
    requests++;
    const body = req.url === '/cifar-10-binary.tar.gz' ? archive : req.url === '/partial.tar.gz' ? partial : null;
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length });
    // Two chunks, so the client sees a stream and tar blocks straddle chunk boundaries.
    res.write(body.subarray(0, 1000));
    setTimeout(() => res.end(body.subarray(1000)), 5);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  tmp.cleanup();
});

test('download fetches, checks the MD5, unpacks the batches and the meta file, and the result loads', async () => {
  const out = join(tmp.dir, 'ok', 'cifar10');
  const seen: number[] = [];
  const r = await downloadCifar10({ out, url: `${base}/cifar-10-binary.tar.gz`, md5: md5(archive), onProgress: (n) => seen.push(n) });
  assert.equal(r.out, out);
  assert.equal(r.bytes, archive.length);
  assert.equal(seen.at(-1), archive.length);
  assert.deepEqual(readdirSync(out).sort(), [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE, 'batches.meta.txt'].sort());
  assert.deepEqual(readdirSync(join(tmp.dir, 'ok')), ['cifar10'], 'no temporary files left');
  const ds = await loadDataset('cifar10', { input: { size: 32, channels: 3 }, seed: 1, dataDir: out, valSize: 3 });
  assert.deepEqual([ds.train.size, ds.val.size, ds.test.size], [12, 3, 3]);
  assert.deepEqual(ds.classNames, 'abcdefghij'.split(''));
  const again = await downloadCifar10({ out, url: `${base}/cifar-10-binary.tar.gz`, md5: md5(archive) });
  assert.equal(again.alreadyPresent, true);
});

test('a bad checksum is an E_IO error and leaves nothing behind', async () => {
  const parent = join(tmp.dir, 'bad');
  const out = join(parent, 'cifar10');
  await rejectsWith(() => downloadCifar10({ out, url: `${base}/cifar-10-binary.tar.gz` }), 'E_IO', 'checksum mismatch', md5(archive), 'c32a1d4ab5d03f1284b67883e8d87530');
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(parent), []);
});

test('an archive without the batches, an HTTP error or a refused connection leave nothing behind', async () => {
  const parent = join(tmp.dir, 'fail');
  mkdirSync(parent);
  const out = join(parent, 'cifar10');
  await rejectsWith(() => downloadCifar10({ out, url: `${base}/partial.tar.gz`, md5: md5(partial) }), 'E_IO', 'lacks data_batch_1.bin');
  await rejectsWith(() => downloadCifar10({ out, url: `${base}/missing.tar.gz` }), 'E_IO', 'HTTP 404', '--url');
  await rejectsWith(() => downloadCifar10({ out, url: 'http://127.0.0.1:1/x.tar.gz' }), 'E_IO', 'cannot download');
  assert.deepEqual(readdirSync(parent), []);
  await rejectsWith(() => downloadCifar10({ out, md5: 'xyz' }), 'E_USAGE', '--md5');
});

test('the tar reader rejects a corrupt header and a cut archive', async () => {
  const tar = tarBytes(files.slice(0, 1));
  const once = async function* (b: Uint8Array): AsyncGenerator<Uint8Array> {
    yield b;
  };
  const names: string[] = [];
  await readTar(once(tar), async (e) => void names.push(e.name));
  assert.deepEqual(names, [files[0]!.name]);
  const bad = Uint8Array.from(tar);
  bad[10] = 0x41;
  await rejectsWith(() => readTar(once(bad), async () => undefined), 'E_IO', 'checksum');
  await rejectsWith(() => readTar(once(tar.subarray(0, 2000)), async () => undefined), 'E_IO', 'truncated');
});

/** The `data` command alone, in a child process (as cli/main.ts would run it). */
const dataCli: CliOptions = { entry: commandHarness('../cli/data.js', 'dataCommand'), cwd: fileURLToPath(new URL('../..', import.meta.url)) };

test('nas data download cifar10 --url --md5 --json prints the destination; nas data info shows the splits', async () => {
  const out = join(tmp.dir, 'cli', 'c10');
  const before = requests;
  const r = await runCliAsync(['data', 'download', 'cifar10', '--out', out, '--url', `${base}/cifar-10-binary.tar.gz`, '--md5', md5(archive), '--json'], dataCli);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /downloading .*100%/);
  const res = JSON.parse(r.stdout) as { out: string; files: string[] };
  assert.equal(res.out, out);
  assert.equal(requests, before + 1);
  assert.equal(res.files.length, 7);
  assert.match((await runCliAsync(['data', 'download', 'cifar10', '--out', out], dataCli)).stdout, /already there/);
  const info = JSON.parse((await runCliAsync(['data', 'info', 'cifar10', '--data-dir', out, '--val-size', '0.2', '--json'], dataCli)).stdout) as { splits: unknown; classes: number };
  assert.deepEqual(info.splits, { train: 12, val: 3, test: 3 });
  assert.equal(info.classes, 10);
  const bad = await runCliAsync(['data', 'download', 'cifar10', '--out', join(tmp.dir, 'cli', 'x'), '--url', `${base}/cifar-10-binary.tar.gz`, '--md5', '0'.repeat(32)], dataCli);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^nas: checksum mismatch[^\n]*\n$/m);
  assert.equal(existsSync(join(tmp.dir, 'cli', 'x')), false);
  const unknown = await runCliAsync(['data', 'info', 'svhn'], dataCli);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown dataset 'svhn'/);
});
