// `nas arch list` and `nas arch show <arch..>`: the reference architectures, and any architecture's layers, params,
// multiply-adds and canonical string.
import type { Argv, CommandModule } from 'yargs';
import { encodeArch } from '../space/blockString.js';
import { costOf, type LayerCost } from '../space/cost.js';
import { loadArch } from '../results/archRef.js';
import { referenceArch, referenceDescription, referenceNames } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import { emit, table, thousands } from './output.js';

interface ListEntry {
  readonly name: string;
  readonly description: string;
  readonly params: number;
  readonly madds: number;
}

interface ListResult {
  readonly archs: readonly ListEntry[];
}

interface ShowResult {
  readonly name: string;
  readonly canonical: string;
  readonly params: number;
  readonly paramsWithBnStats: number;
  readonly madds: number;
  readonly layers: readonly LayerCost[];
}

const millions = (n: number): string => `${(n / 1e6).toFixed(1)}M`;

function listText(r: ListResult): string {
  return table(
    ['name', 'params', 'MAdds', 'description'],
    r.archs.map((a) => [a.name, thousands(a.params), millions(a.madds), a.description]),
  );
}

function showText(r: ShowResult): string {
  const shape = (s: readonly number[]): string => s.join('x');
  const rows = r.layers.map((l) => [
    l.path,
    l.op,
    shape(l.inShape),
    shape(l.outShape),
    `${l.kernel}/${l.stride}`,
    thousands(l.params),
    thousands(l.madds),
  ]);
  return [
    r.name,
    table(['layer', 'op', 'in', 'out', 'k/s', 'params', 'MAdds'], rows),
    '',
    `trainable params  ${thousands(r.params)}`,
    `with BN stats     ${thousands(r.paramsWithBnStats)}`,
    `MAdds             ${(r.madds / 1e6).toFixed(2)}M`,
    `canonical         ${r.canonical}`,
  ].join('\n');
}

const listCommand: CommandModule<object, { json: boolean }> = {
  command: 'list',
  describe: 'List the reference architectures',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: (argv) => {
    const archs = referenceNames().map((name) => {
      const cost = costOf(resolve(referenceArch(name)));
      return { name, description: referenceDescription(name), params: cost.params, madds: cost.madds };
    });
    emit({ archs }, argv.json, listText);
  },
};

interface ShowArgs {
  readonly arch: string[];
  readonly input: number | undefined;
  readonly classes: number | undefined;
  readonly width: number | undefined;
  readonly channels: number | undefined;
  readonly json: boolean;
}

const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <arch..>',
  describe: 'Layers, params, MAdds and canonical string of an architecture',
  builder: (y: Argv) =>
    y
      .positional('arch', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'a reference name, a spec .json file, an arch string, or block strings (ir_k3_s1_x16_c16_re ...)',
      })
      .option('input', { type: 'number', describe: 'input size (square)' })
      .option('channels', { type: 'number', describe: 'input channels' })
      .option('classes', { type: 'number', describe: 'number of classes' })
      .option('width', { type: 'number', describe: 'width multiplier (replaces the spec width)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  handler: (argv) => {
    const spec = loadArch(argv.arch, {
      input: argv.input,
      classes: argv.classes,
      width: argv.width,
      channels: argv.channels,
    });
    const cost = costOf(resolve(spec));
    const result: ShowResult = {
      name: spec.name,
      canonical: encodeArch(spec),
      params: cost.params,
      paramsWithBnStats: cost.paramsWithBnStats,
      madds: cost.madds,
      layers: cost.layers,
    };
    emit(result, argv.json, showText);
  },
};

export const archCommand: CommandModule = {
  command: 'arch',
  describe: 'Inspect architectures: reference list, layers, params, MAdds',
  builder: (y: Argv) => y.command(listCommand).command(showCommand).demandCommand(1, 'name a subcommand: list or show'),
  handler: () => undefined,
};
