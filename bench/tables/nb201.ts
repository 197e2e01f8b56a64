// The NAS-Bench-201 adapter (`nas bench search --table nb201`): the benchmark's cell as a search space of 6 decisions
// of 5 options, and the table row (`arch_str`) of each sample. Data and provenance: nb201/README.md.
//
// Our IR has no cell DAG, so the space is an encoding: one stage of 6 inverted-residual layers whose expansion ratio
// (1, 2, 3, 4 or 6, i.e. 16, 32, 48, 64 or 96 expanded channels on 16) stands for the operation on one edge. Only the
// decision indices matter: the adapter maps them to `arch_str`, and every sample is a distinct architecture of the IR
// (test/bench-search.test.ts checks all 15,625). The networks the IR builds are never trained or timed here.
import { fileURLToPath } from 'node:url';

/** The edge operations in option order. */
export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;

/** The 6 edges in `arch_str` order (and decision order): [target node, source node]. */
export const NB201_EDGES: readonly (readonly [number, number])[] = [
  [1, 0],
  [2, 0],
  [2, 1],
  [3, 0],
  [3, 1],
  [3, 2],
];

export const space = {
  version: 1,
  kind: 'space',
  name: 'nas-bench-201',
  input: { size: 32, channels: 3 },
  classes: 10,
  width: 1,
  padding: 'symmetric',
  bn: { decay: 0.9, eps: 1e-5 },
  dropout: 0,
  stem: { kernel: 3, stride: 1, out: 16, act: 'relu' },
  stages: [
    {
      layers: NB201_EDGES.length,
      stride: 1,
      out: 16,
      decide: 'layer',
      block: { op: { type: 'ir', expand: { oneOf: [1, 2, 3, 4, 6] } }, kernel: 3, se: null, act: 'relu' },
    },
  ],
  head: { conv: 64, hidden: null, act: 'relu' },
};

export const table = fileURLToPath(new URL('../../../bench/tables/nb201/nb201_12epoch_accs.csv.gz', import.meta.url));
export const keyColumn = 'arch_str';
export const accuracy = 'cifar10-val';
export const percent = true;
export const datasets = { cifar10: 'cifar10-val', cifar100: 'cifar100-val', imagenet: 'imagenet-val' };
export const test = { 'cifar10-val': 'cifar10-test', 'cifar100-val': 'cifar100-test', 'imagenet-val': 'imagenet-test' };

/** `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` of a sample (one option index per edge, in NB201_EDGES order). */
export function key(decisions: readonly number[]): string {
  const nodes: string[] = [];
  NB201_EDGES.forEach(([to, from], i) => {
    const op = NB201_OPS[decisions[i] ?? -1];
    if (op === undefined) throw new RangeError(`nb201: decision ${i} must be an index in [0, 4], got ${String(decisions[i])}`);
    nodes[to - 1] = `${nodes[to - 1] ?? '|'}${op}~${from}|`;
  });
  return nodes.join('+');
}
