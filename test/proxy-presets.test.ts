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
  for (const [k, v] of Object.entries({ dataset: 'mnist', ...preset })) assert.deepEqual(s?.config[k], v, k);
  // Every other key named too, so that the study's stored scores keep their meaning when a default changes.
  assert.equal(s?.config['recipe'], 'small-data');
  assert.equal(s?.config['dataSeed'], 0);
});

test("the study's default setting names the current defaults; input16 and cheap16 the old default and half of it", () => {
  const [d, i16, c16, i32] = proxySettings(['default', 'input16', 'cheap16', 'input32'], {}, {});
  assert.equal(d?.config['input'], null);
  assert.deepEqual([i16?.config['input'], i16?.config['proxyEpochs']], [16, 1]);
  assert.deepEqual([c16?.config['input'], c16?.config['proxyEpochs']], [16, 0.5]);
  assert.equal(i32?.config['input'], 32);
});
