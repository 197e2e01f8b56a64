// What the report shows of every run, whatever its kind.
import type { RunReport } from './reportTypes.js';
import type { RunRecord } from './runs.js';

export type RunHeader = Pick<RunReport, 'id' | 'status' | 'createdAt' | 'updatedAt' | 'seed' | 'error'>;

export function runHeader(run: RunRecord): RunHeader {
  return { id: run.id, status: run.status, createdAt: run.createdAt, updatedAt: run.updatedAt, seed: run.seed, error: run.error };
}
