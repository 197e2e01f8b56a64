// Whether this worker can run a job as the coordinator meant it: the evaluator must load here from the same file (its
// SHA-256 equal to the coordinator's), and its settings must pass the evaluator's own check (checkConfig: the
// dataset and the files it names are here). A job that fails this is refused with the reason, which the coordinator
// stores on the candidate; running it anyway would record a result of another evaluator, or a failure of this machine
// as the candidate's.
import { canonicalJson } from '../../../common/json.js';
import { checkEvaluatorConfig, evaluatorHash } from '../../evaluators.js';
import { reasonOf } from '../types.js';
import { checksNameOf, evaluatorUrlHere } from './evaluatorRef.js';
import type { JobData } from './jobs.js';

/** A job this worker cannot run as asked; `message` says why, for the candidate's failure reason. */
export class RefusedJob extends Error {}

const evaluatorChecks = new Map<string, Promise<string>>();
const configChecks = new Map<string, Promise<void>>();

/** The evaluator's URL here, when its file is the coordinator's; else RefusedJob. Each answer is remembered. */
function evaluatorHere(ref: string, hash: string): Promise<string> {
  const key = `${ref}\u0000${hash}`;
  let p = evaluatorChecks.get(key);
  if (p === undefined) {
    p = (async () => {
      const url = evaluatorUrlHere(ref);
      const here = evaluatorHash(url);
      if (here !== hash) {
        throw new RefusedJob(`evaluator ${ref} differs from the coordinator's (sha256 ${here.slice(0, 12)} here, ${hash.slice(0, 12)} there)`);
      }
      return url;
    })();
    evaluatorChecks.set(key, p);
  }
  return p;
}

function configHere(name: string, config: JobData['task']['context']['config']): Promise<void> {
  const key = `${name}\u0000${canonicalJson(config)}`;
  let p = configChecks.get(key);
  if (p === undefined) {
    p = checkEvaluatorConfig(name, config);
    configChecks.set(key, p);
  }
  return p;
}

/** The evaluator URL to run the job with; throws RefusedJob (`worker WHO refused the job: why`) when it cannot. */
export async function acceptJob(job: JobData, who: string): Promise<string> {
  try {
    const url = await evaluatorHere(job.evaluator, job.evaluatorHash);
    await configHere(checksNameOf(job.evaluator, url), job.task.context.config);
    return url;
  } catch (e) {
    throw new RefusedJob(`worker ${who} refused the job: ${reasonOf(e).replace(/^(RefusedJob|NasError|UsageError): /, '')}`);
  }
}
