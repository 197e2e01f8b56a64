// The `final-epoch` proxy preset: one epoch of the given recipe at 32 px on every training image but the held-out
// validation ones, valid as the search reads proxy configs, and the same setting in the fidelity study.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proxySettings } from '../bench/fidelity/settings.js';
import { UsageError } from '../common/errors.js';
import { parseProxyConfig } from '../proxy-train/config.js';
import { finalEpochProxy } from '../proxy-train/presets.js';

test('final-epoch covers every training image but the validation ones, at 32 px, with the given recipe', () => {
  const c = parseProxyConfig({ dataset: 'fashion-mnist', ...finalEpochProxy('fashion-mnist', 'small-data') });
  assert.equal(c.input, 32);
  assert.equal(c.recipe, 'small-data');
  assert.equal(c.proxyEpochs, 1);
  assert.equal(c.proxyImages + c.valImages, 60000);
  const cifar = finalEpochProxy('cifar10', 'small-data');
  assert.equal(Number(cifar['proxyImages']) + Number(cifar['valImages']), 50000);
  assert.throws(() => finalEpochProxy('folder', 'small-data'), (e) => e instanceof UsageError && /--data folder/.test(e.message));
});

test('the fidelity study offers the same setting by name', () => {
  const preset = finalEpochProxy('mnist', 'small-data');
  const [s] = proxySettings(['final-epoch'], { dataset: 'mnist' }, preset);
  assert.equal(s?.label, 'proxy:final-epoch');
  assert.deepEqual(s?.config, { dataset: 'mnist', ...preset });
});
