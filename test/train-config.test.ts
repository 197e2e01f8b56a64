// TrainConfig parsing and dotted overrides, and the learning-rate schedules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NasError } from '../common/errors.js';
import { applyOverrides, defaultTrainConfig, optimizerEps, parseTrainConfig } from '../train/config.js';
import { makeSchedule } from '../train/schedule.js';

function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NasError, `not a NasError: ${String(e)}`);
    assert.equal(e.code, 'E_USAGE');
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.match(e.message, re);
    return true;
  });
}

describe('parseTrainConfig', () => {
  it('fills absent keys with the defaults', () => {
    assert.deepEqual(parseTrainConfig({}), defaultTrainConfig);
    const c = parseTrainConfig({ epochs: 3, optimizer: { type: 'rmsprop', lr: 0.064 }, ema: 0.9999 });
    assert.equal(c.epochs, 3);
    assert.equal(c.optimizer.type, 'rmsprop');
    assert.equal(c.optimizer.momentum, 0.9);
    assert.equal(optimizerEps(c.optimizer), 1e-3);
    assert.deepEqual(c.ema, { decay: 0.9999, warmup: false, warmupPower: 2 / 3 });
    assert.equal(c.schedule.type, 'cosine');
  });

  it('names an unknown key, nested ones by their dotted path', () => {
    usage(() => parseTrainConfig({ epoch: 3 }), /unknown config key 'epoch'/);
    usage(() => parseTrainConfig({ optimizer: { lrr: 0.1 } }), /unknown config key 'optimizer\.lrr'/);
    usage(() => parseTrainConfig({ ema: { decay: 0.99, power: 1 } }), /unknown config key 'ema\.power'/);
  });

  it('rejects values of the wrong type or range, naming the key', () => {
    usage(() => parseTrainConfig({ epochs: 0 }), /'epochs' must be >= 1, got 0/);
    usage(() => parseTrainConfig({ epochs: 2.5 }), /'epochs' must be an integer/);
    usage(() => parseTrainConfig({ batchSize: '64' }), /'batchSize' must be a number, got '64'/);
    usage(() => parseTrainConfig({ optimizer: { type: 'adam' } }), /'optimizer\.type' must be one of sgd, rmsprop, adamw/);
    usage(() => parseTrainConfig({ optimizer: { lr: 0 } }), /'optimizer\.lr' must be > 0/);
    usage(() => parseTrainConfig({ labelSmoothing: 1.5 }), /'labelSmoothing' must be <= 1/);
    usage(() => parseTrainConfig({ optimizer: { betas: [0.9] } }), /'optimizer\.betas' must be a pair/);
    usage(() => parseTrainConfig({ schedule: null }), /'schedule' must not be null/);
    usage(() => parseTrainConfig({ epochs: 2, schedule: { warmupEpochs: 3 } }), /warmupEpochs.*must not exceed epochs/);
    usage(() => parseTrainConfig([]), /must be a JSON object/);
  });
});

describe('applyOverrides', () => {
  it('sets dotted keys with type checking', () => {
    const c = applyOverrides(defaultTrainConfig, [
      'optimizer.lr=0.1',
      'epochs=3',
      'optimizer.nesterov=true',
      'schedule.type=step',
      'optimizer.betas=0.9,0.99',
      'clipGradNorm=5',
      'wdExclude=bn-and-bias',
    ]);
    assert.equal(c.optimizer.lr, 0.1);
    assert.equal(c.epochs, 3);
    assert.equal(c.optimizer.nesterov, true);
    assert.equal(c.schedule.type, 'step');
    assert.deepEqual(c.optimizer.betas, [0.9, 0.99]);
    assert.equal(c.clipGradNorm, 5);
    assert.equal(c.wdExclude, 'bn-and-bias');
    assert.equal(defaultTrainConfig.epochs, 10, 'the input is not modified');
  });

  it('switches a null group on with its defaults, and off with null', () => {
    const on = applyOverrides(defaultTrainConfig, ['ema.decay=0.999']);
    assert.deepEqual(on.ema, { decay: 0.999, warmup: false, warmupPower: 2 / 3 });
    assert.deepEqual(applyOverrides(defaultTrainConfig, ['ema=0.99']).ema?.decay, 0.99);
    assert.equal(applyOverrides(on, ['ema=null']).ema, null);
    assert.equal(applyOverrides(defaultTrainConfig, ['clipGradNorm=1', 'clipGradNorm=null']).clipGradNorm, null);
  });

  it('rejects unknown keys, bad values and malformed overrides in one line', () => {
    usage(() => applyOverrides(defaultTrainConfig, ['optimizer.lrr=1']), /unknown config key 'optimizer\.lrr'/);
    usage(() => applyOverrides(defaultTrainConfig, ['epochs=three']), /'epochs' must be a number, got 'three'/);
    usage(() => applyOverrides(defaultTrainConfig, ['optimizer.nesterov=yes']), /must be true or false/);
    usage(() => applyOverrides(defaultTrainConfig, ['epochs']), /should be key=value/);
    usage(() => applyOverrides(defaultTrainConfig, ['epochs.x=1']), /'epochs' is a value, not a group/);
    usage(() => applyOverrides(defaultTrainConfig, ['seed=-1']), /'seed' must be >= 0/);
  });
});

describe('learning-rate schedules', () => {
  const steps = { stepsPerEpoch: 10, totalSteps: 100 };

  it('cosine: linear warm-up to the peak, then half a cosine to minLr at the last step', () => {
    const f = makeSchedule({ ...defaultTrainConfig.schedule, type: 'cosine', warmupEpochs: 2, minLr: 0.01 }, 1, steps);
    assert.equal(f.warmupSteps, 20);
    assert.ok(Math.abs(f(0) - 0.05) < 1e-12);
    assert.ok(Math.abs(f(19) - 1) < 1e-12);
    assert.ok(Math.abs(f(20) - 1) < 1e-12);
    assert.ok(Math.abs(f(60) - (0.01 + 0.99 * 0.5)) < 1e-12, 'half-way');
    assert.ok(Math.abs(f(100) - 0.01) < 1e-12);
    for (let s = 21; s < 100; s++) assert.ok(f(s) < f(s - 1), 'decreasing after warm-up');
  });

  it('fractional warm-up epochs round to whole steps', () => {
    const f = makeSchedule({ ...defaultTrainConfig.schedule, type: 'constant', warmupEpochs: 0.25 }, 0.4, steps);
    assert.equal(f.warmupSteps, 3);
    assert.deepEqual([0, 1, 2, 3, 50].map((s) => Math.round(f(s) * 1e9) / 1e9), [0.133333333, 0.266666667, 0.4, 0.4, 0.4]);
  });

  it('step: x0.97 every 2.4 epochs (staircase), counted from the end of warm-up', () => {
    const f = makeSchedule({ ...defaultTrainConfig.schedule, type: 'step', decayRate: 0.97, decayEpochs: 2.4, warmupEpochs: 1 }, 0.1, steps);
    assert.equal(f(10), 0.1);
    assert.equal(f(33), 0.1);
    assert.ok(Math.abs(f(34) - 0.097) < 1e-12);
    assert.ok(Math.abs(f(58) - 0.1 * 0.97 ** 2) < 1e-12);
    const tv = makeSchedule({ ...defaultTrainConfig.schedule, type: 'step', decayRate: 0.973, decayEpochs: 2, warmupEpochs: 0 }, 0.064, steps);
    assert.equal(tv(19), 0.064);
    assert.ok(Math.abs(tv(20) - 0.064 * 0.973) < 1e-12);
  });
});
