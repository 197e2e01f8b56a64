// `nas bench proxy-fidelity`: Kendall tau and Spearman rho of the proxy evaluator's settings, the zero-cost scores,
// params and MAdds against fully trained test accuracy (bench/proxyFidelity.ts). --smoke is a tiny study for CI.
import type { CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { isJsonObject, type JsonValue } from '../common/json.js';
import { completeProxyJson } from '../proxy-train/config.js';
import { checkOutput } from '../common/outputPath.js';
import { type DatasetName, isDatasetName } from '../data/load.js';
import { DEFAULT_PROXY_SETTINGS } from '../bench/fidelity/settings.js';
import type { ProxyFidelityOptions, ProxyFidelityResult } from '../bench/proxyFidelity.js';
import { openStore } from '../results/store.js';
import { databaseReads, dbOption, jsonOption } from './options.js';
import { emit, table } from './output.js';

interface FidelityArgs {
  db: string;
  out: string;
  space: string;
  data: string;
  'data-dir': string | undefined;
  archs: number | undefined;
  pool: number;
  'max-madds': number | undefined;
  seed: number;
  settings: string[] | undefined;
  'zero-cost': boolean;
  recipe: string;
  epochs: number | undefined;
  'bn-decay': number | undefined;
  seeds: number | undefined;
  'noise-archs': number | undefined;
  'train-images': number | undefined;
  'test-images': number | undefined;
  smoke: boolean;
  'stored-only': boolean;
  json: boolean;
}

/** --smoke: a study of a minute or so, every part run (CI); options given explicitly still win. */
const SMOKE = {
  archs: 4,
  // The small end of the space: quick to train (and within the training kernels' heap at batch 128).
  maxMadds: 15_000_000,
  epochs: 1,
  // 3 steps: the architecture's 0.99 would leave evaluation on the initial moving statistics.
  bnDecay: 0.5,
  seeds: 2,
  noiseArchs: 2,
  trainImages: 400,
  testImages: 200,
  proxyBase: { proxyImages: 128, valImages: 64 },
  zeroCost: { batch: 16 },
};

const DEFAULTS = { archs: 16, epochs: 3, seeds: 2, noiseArchs: 6 };

function optionsOf(args: FidelityArgs, data: DatasetName): Omit<ProxyFidelityOptions, 'store' | 'onProgress'> {
  const d = args.smoke ? SMOKE : DEFAULTS;
  const trainImages = args['train-images'] ?? (args.smoke ? SMOKE.trainImages : null);
  const testImages = args['test-images'] ?? (args.smoke ? SMOKE.testImages : null);
  return {
    outDir: args.out,
    space: args.space,
    dataset: data,
    dataDir: args['data-dir'] ?? null,
    archs: args.archs ?? d.archs,
    pool: args.pool,
    maxMadds: args['max-madds'] ?? (args.smoke ? SMOKE.maxMadds : null),
    seed: args.seed,
    settings: args.settings ?? [...DEFAULT_PROXY_SETTINGS],
    proxyBase: args.smoke ? SMOKE.proxyBase : {},
    zeroCost: args['zero-cost'] ? (args.smoke ? SMOKE.zeroCost : {}) : null,
    recipe: args.recipe,
    epochs: args.epochs ?? d.epochs,
    bnDecay: args['bn-decay'] ?? (args.smoke ? SMOKE.bnDecay : null),
    seeds: args.seeds ?? d.seeds,
    noiseArchs: args['noise-archs'] ?? d.noiseArchs,
    trainImages,
    testImages,
    storedOnly: args['stored-only'],
  };
}

const f3 = (v: number | null): string => (v === null ? '-' : v.toFixed(3));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : (100 * v).toFixed(2));
const seconds = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));

/** A setting's config as the keys it sets apart from the proxy defaults (the JSON form has every key). */
function configText(c: JsonValue, defaults: Readonly<Record<string, JsonValue>>): string {
  if (!isJsonObject(c)) return c === null ? '' : JSON.stringify(c);
  const own = Object.entries(c).filter(([k, v]) => !(k in defaults) || JSON.stringify(v) !== JSON.stringify(defaults[k]));
  return own.length === 0 ? 'defaults' : own.map(([k, v]) => `${k}=${JSON.stringify(v).replace(/"/g, '')}`).join(' ');
}

function fidelityText(r: ProxyFidelityResult): string {
  const defaults = completeProxyJson({}, false);
  const n = r.noise;
  const training = `${r.epochs} epochs of ${r.recipe}${r.trainImages === null ? '' : ` on ${r.trainImages} training images`}`;
  const lines = [
    `${r.rows.length} architectures of ${r.space} (${r.input} px${r.maxMadds === null ? '' : `, at most ${r.maxMadds} MAdds`}) on ${r.dataset}, trained ${training}, test top-1 ` +
      `(mean over seeds ${r.seeds.join(', ')}; the others for archs ${r.noiseArchs.map((i) => `#${i}`).join(' ') || 'none'})`,
    '',
    table(
      ['score', 'n', 'Kendall tau', 'Spearman rho', 's / candidate', 'config'],
      r.settings.map((s) => [s.label, String(s.n), f3(s.kendallTau), f3(s.spearmanRho), seconds(s.secondsPerCandidate), configText(s.config, defaults)]),
    ),
    '',
    `seed-to-seed (seeds ${n.seeds.join(' and ')}, ${n.archs} archs): mean |difference| ${pct(n.meanAbsDiff)} pt, ` +
      `tau ${f3(n.kendallTau)}, rho ${f3(n.spearmanRho)}; full training ${seconds(r.trainSecondsPerArch)} s per arch`,
    '',
  ];
  const labels = r.settings.map((s) => s.label).filter((l) => l !== 'params' && l !== 'madds');
  lines.push(
    table(
      ['#', 'MAdds', 'params', ...r.seeds.map((s) => `top-1 s${s}`), ...labels],
      r.rows.map((row) => [
        String(row.index),
        String(row.madds),
        String(row.params),
        ...r.seeds.map((s) => pct(row.trained.find((t) => t.seed === s)?.top1)),
        ...labels.map((l) => f3(row.scores[l] ?? null)),
      ]),
    ),
  );
  for (const row of r.rows) for (const f of row.trainFailures) lines.push(`#${row.index} training failed, ${f}`);
  return lines.join('\n');
}

export const fidelityCommand: CommandModule<object, FidelityArgs> = {
  command: 'proxy-fidelity',
  describe: 'rank correlation of proxy settings and zero-cost scores with fully trained accuracy',
  builder: (y) =>
    y
      .option('db', dbOption)
      .option('out', { type: 'string', default: 'runs/proxy-fidelity', describe: 'directory for the trainings (reused by a rerun)' })
      .option('space', { type: 'string', default: 'mnasnet-small-input', describe: 'built-in search space' })
      .option('data', { type: 'string', default: 'fashion-mnist', describe: 'dataset' })
      .option('data-dir', { type: 'string', describe: 'where the dataset files are' })
      .option('archs', { type: 'number', describe: 'architectures, at evenly spaced MAdds quantiles (16; smoke 4)' })
      .option('pool', { type: 'number', default: 1000, describe: 'uniform samples the architectures are picked from' })
      .option('max-madds', { type: 'number', describe: 'only architectures with at most this many multiply-adds (all)' })
      .option('seed', { type: 'number', default: 0, describe: 'sampling and evaluation seed' })
      .option('settings', { type: 'string', array: true, describe: 'proxy settings: cheap, default, dear, input32, input16, cheap16, final-epoch (one epoch of --recipe on every training image at 32 px) or LABEL:key=value,... (cheap default dear)' })
      .option('zero-cost', { type: 'boolean', default: true, describe: 'score with naswot and synflow too (--no-zero-cost: not)' })
      .option('recipe', { type: 'string', default: 'small-data', describe: "training recipe (train-final's for small images)" })
      .option('epochs', { type: 'number', describe: 'full-training epochs (3; smoke 1)' })
      .option('bn-decay', { type: 'number', describe: "batch-norm decay of the full trainings: short ones need less than the architecture's 0.99 (arch's; smoke 0.5)" })
      .option('seeds', { type: 'number', describe: 'training seeds 0..N-1 (2; smoke 2)' })
      .option('noise-archs', { type: 'number', describe: 'archs trained with every seed, not just seed 0 (6; smoke 2)' })
      .option('train-images', { type: 'number', describe: 'a seeded subset of the training images (all; smoke 400)' })
      .option('test-images', { type: 'number', describe: 'a seeded subset of the test images (all; smoke 200)' })
      .option('stored-only', { type: 'boolean', default: false, describe: 'evaluate and train nothing: the table of what is stored so far' })
      .option('smoke', { type: 'boolean', default: false, describe: 'a tiny study (4 archs, tiny budgets) for CI' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    for (const k of ['db', 'out', 'space', 'data', 'archs', 'epochs', 'seeds', 'recipe'] as const) {
      if (Array.isArray(args[k])) throw new UsageError(`--${k} is given more than once; give it once`);
    }
    if (!isDatasetName(args.data)) throw new UsageError(`--data ${args.data}: unknown dataset; use mnist, fashion-mnist or cifar10`);
    const { isStudyDir, proxyFidelity } = await import('../bench/proxyFidelity.js');
    checkOutput(args.out, { option: '--out', kind: 'into', force: false, reads: databaseReads(args.db), isOwn: isStudyDir });
    const store = openStore(args.db);
    try {
      const result = await proxyFidelity({ ...optionsOf(args, args.data), store, onProgress: (line) => process.stderr.write(`${line}\n`) });
      emit(result, args.json, fidelityText);
    } finally {
      store.close();
    }
  },
};
