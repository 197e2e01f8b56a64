// How a job names its evaluator so that a worker on another machine finds its own copy: a built-in by its name, a
// module of nas itself (NetAdapt's fine-tune) by its path inside nas's install (`nas:netadapt/finetune.js`: each
// machine may install nas elsewhere), a user's module by its absolute path (the same on every worker).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NasError } from '../../../common/errors.js';
import { evaluatorRefOf, evaluatorUrlOf, isBuiltinEvaluator } from '../../evaluators.js';

/** The compiled tree nas runs from (dist/): search/engine/queue/ is three levels below it. */
const NAS_ROOT = new URL('../../../', import.meta.url).href;
const NAS_REF = 'nas:';

/** The reference a job carries for the evaluator module at `url`. */
export function jobEvaluatorRef(url: string): string {
  const ref = evaluatorRefOf(url);
  if (isBuiltinEvaluator(ref) || !url.startsWith(NAS_ROOT)) return ref;
  return `${NAS_REF}${url.slice(NAS_ROOT.length)}`;
}

/** The module URL of a job's evaluator reference on this machine; a one-line NasError when it is not here. */
export function evaluatorUrlHere(ref: string): string {
  if (!ref.startsWith(NAS_REF)) return evaluatorUrlOf(ref);
  const rel = ref.slice(NAS_REF.length);
  if (rel.split('/').includes('..')) throw new NasError('E_USAGE', `evaluator ${ref}: a path inside nas may not leave it`);
  const url = new URL(rel, NAS_ROOT).href;
  if (!existsSync(fileURLToPath(url))) throw new NasError('E_USAGE', `evaluator ${ref}: not in this machine's nas (another version?)`);
  return url;
}

/** The name evaluatorChecks takes for it: a built-in's name, else the module's path here. */
export function checksNameOf(ref: string, url: string): string {
  return isBuiltinEvaluator(ref) ? ref : fileURLToPath(url);
}
