// `nas doctor [--queue URL] [--json]`: what is installed and usable here (doctor/runDoctor.ts), a line per component with
// the fix for what is missing. Exit code 0 when the required parts are there, whatever optional part is missing.
import type { CommandModule } from 'yargs';
import { NasError } from '../common/errors.js';
import type { DoctorCheck, DoctorReport } from '../doctor/runDoctor.js';
import { parseQueueUrl } from '../search/engine/queue/connection.js';
import { jsonOption } from './options.js';
import { emit } from './output.js';

interface DoctorArgs {
  queue: string | undefined;
  json: boolean;
}

function checkLines(c: DoctorCheck, width: number): string[] {
  const head = `${c.name.padEnd(width)}  ${c.status.padEnd(7)}  ${c.detail}`;
  return c.fix === null ? [head] : [head, `${''.padEnd(width + 11)}fix: ${c.fix}`];
}

function toText(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const gone = r.checks.filter((c) => c.status === 'missing').length;
  const summary =
    r.missingRequired.length > 0
      ? `required and missing: ${r.missingRequired.join(', ')}`
      : `everything required is there${gone > 0 ? `; ${gone} optional part${gone === 1 ? ' is' : 's are'} missing (see fix:)` : ''}`;
  return [`nas ${r.version} on ${r.platform}`, ...r.checks.flatMap((c) => checkLines(c, width)), summary].join('\n');
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check what is installed and usable: backends, native kernels, threads, PyTorch, Chromium, Redis, datasets',
  builder: (y) =>
    y
      .option('queue', { type: 'string', describe: 'also ping this Redis (redis://HOST:6379/0), as nas search --queue does' })
      .option('json', jsonOption),
  handler: async (args) => {
    // Loaded here: its checks bring ioredis (bench/redisServer.ts), which no other command needs at start.
    const { runDoctor } = await import('../doctor/runDoctor.js');
    const report = await runDoctor({ queue: args.queue === undefined ? undefined : parseQueueUrl(args.queue) });
    emit(report, args.json, toText);
    if (report.missingRequired.length > 0) {
      throw new NasError('E_BACKEND', `required and missing: ${report.missingRequired.join(', ')}; run the fix lines of nas doctor`, 1);
    }
  },
};
