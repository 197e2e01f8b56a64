// `nas doctor`: what is installed and usable here, one check per component (bench/doctor/: compute, tools, data),
// each with a one-line fix when it is missing. Only the wasm backend, its native kernels and MNIST are required:
// without them nothing trains; the rest serve one command, benchmark or test each.
import { packageInfo } from '../common/packageInfo.js';
import { type DoctorCheck, missing, ok } from './check.js';
import { backendChecks, onnxruntimeCheck, threadsCheck } from './compute.js';
import { datasetChecks } from './data.js';
import { chromiumCheck, pytorchChecks, queueCheck, redisCheck } from './tools.js';

export type { DoctorCheck } from './check.js';

export interface DoctorReport {
  /** nas's version (package.json, read at run time). */
  readonly version: string;
  readonly platform: string;
  readonly checks: readonly DoctorCheck[];
  /** The names of the required checks that failed: `nas doctor` exits 1 when there are any. */
  readonly missingRequired: readonly string[];
}

export interface DoctorOptions {
  /** A Redis URL to ping, as `nas search --queue URL` would. */
  readonly queue?: string | undefined;
}

/** Node against package.json's engines (a `>=N` range). */
function nodeCheck(): DoctorCheck {
  const wanted = packageInfo().node;
  const have = process.versions.node;
  const min = /^>=\s*(\d+)/.exec(wanted ?? '')?.[1];
  const detail = `${have} (${process.execPath}; package.json wants ${wanted ?? 'any'})`;
  if (min !== undefined && Number(have.split('.')[0]) < Number(min)) return missing('node', detail, `install Node ${min} or newer`, true);
  return ok('node', detail, true);
}

export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  // The programs start first and run while the backends load in this process.
  const tools = Promise.all([pytorchChecks(), chromiumCheck(), redisCheck(), opts.queue === undefined ? [] : queueCheck(opts.queue)]);
  const compute = [...(await backendChecks()), threadsCheck(), await onnxruntimeCheck()];
  const checks = [nodeCheck(), ...compute, ...(await tools).flat(), ...datasetChecks()];
  return {
    version: packageInfo().version,
    platform: `${process.platform} ${process.arch}, Node ${process.versions.node}`,
    checks,
    missingRequired: checks.filter((c) => c.required && c.status === 'missing').map((c) => c.name),
  };
}
