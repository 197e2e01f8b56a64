#!/usr/bin/env node
// The `nas` command line: a thin yargs layer. Each command is a module that parses, validates, calls one library
// function and prints its result; errors and exit codes are handled here, once.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { environmentError, NasError } from '../common/errors.js';
import { packageInfo } from '../common/packageInfo.js';
import { archCommand } from './arch.js';
import { backendCommand } from './backend.js';
import { benchCommand } from './bench.js';
import { dataCommand } from './data.js';
import { doctorCommand } from './doctor.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { importWeightsCommand } from './importWeights.js';
import { latencyCommand } from './latency.js';
import { netadaptCommand } from './netadapt.js';
import { predictCommand } from './predict.js';
import { queueCommand } from './queue.js';
import { reportCommand } from './report.js';
import { resultsCommand } from './results.js';
import { runsCommand } from './runs.js';
import { searchCommand } from './search.js';
import { trainFinalCommand } from './trainFinal.js';
import { workerCommand } from './worker.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('nas')
    .command(archCommand)
    .command(backendCommand)
    .command(benchCommand)
    .command(dataCommand)
    .command(doctorCommand)
    .command(evalCommand)
    .command(exportCommand)
    .command(importWeightsCommand)
    .command(latencyCommand)
    .command(netadaptCommand)
    .command(predictCommand)
    .command(queueCommand)
    .command(reportCommand)
    .command(resultsCommand)
    .command(runsCommand)
    .command(searchCommand)
    .command(trainFinalCommand)
    .command(workerCommand)
    // yargs' completion: `nas completion` prints a bash script (zsh's when $SHELL is zsh) that asks
    // `nas --get-yargs-completions WORDS...` for the commands and options at the cursor.
    .completion('completion', 'Print a shell completion script (bash; zsh when $SHELL is zsh): nas completion >> ~/.bashrc')
    .demandCommand(1, 'name a command: nas --help lists them')
    .strict()
    .recommendCommands()
    .help()
    .version(packageInfo().version)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg: string | undefined, err: Error | undefined) => {
      // yargs messages can span lines; errors are one line.
      throw err ?? new NasError('E_USAGE', (msg ?? 'invalid command line').replace(/\s*\n\s*/g, ' '));
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    exitCode = reportError(e);
  }
  return exitCode;
}

/** One line on stderr; exit code 2 for the user's errors, 1 for ours (with the stack under NAS_DEBUG). */
function reportError(e: unknown): number {
  e = environmentError(e) ?? e;
  if (e instanceof NasError) {
    process.stderr.write(`nas: ${e.message}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`nas: internal error: ${err.message}\n`);
  if (process.env['NAS_DEBUG']) process.stderr.write(`${err.stack ?? ''}\n`);
  return 1;
}

process.exitCode = await main(hideBin(process.argv));
