// The file that marks a run directory of train-final and names its run, apart from the training code so that the
// command line checks --out without loading tfjs.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../common/atomicFs.js';

/** The run directory remembers its run id, so `--resume` continues the same database record. */
export const RUN_FILE = 'run.json';

/** Whether `dir` is a run directory train-final made (it may resume it): the only non-empty --out it takes without --force. */
export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, RUN_FILE));
}

/** The run id a run directory records, or null. */
export async function readRunId(outDir: string): Promise<string | null> {
  try {
    const json = JSON.parse(await readFile(join(outDir, RUN_FILE), 'utf8')) as { runId?: unknown };
    return typeof json.runId === 'string' ? json.runId : null;
  } catch {
    return null;
  }
}

export async function writeRunId(outDir: string, runId: string): Promise<void> {
  await replaceFile(join(outDir, RUN_FILE), `${JSON.stringify({ runId }, null, 2)}\n`);
}
