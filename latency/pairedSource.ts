// `--latency paired:REF` made ready for a search run: the reference loaded as `--arch` loads a network, at the
// space's input, and its latency measured once, in the command's process, before any worker starts. The workers
// then judge every candidate as a ratio to the reference (resources.ts) times that figure, so a target of
// `latency=1x` means "no slower than the reference, on this machine, whatever its load when each was timed".
import { UsageError } from '../common/errors.js';
import { loadArch } from '../results/archRef.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import type { SearchSpace } from '../space/searchSpace.js';
import { measureReference, SEARCH_JUDGEMENT } from './paired.js';
import type { LatencySourceSpec } from './resources.js';
import { lendRunner } from './searchRunner.js';
import type { SourceRunner } from './sourceRunner.js';
import { parseTarget } from './targets.js';

/** The reference as the space's candidates are built: its input size and channels, its classes. */
function referenceFor(text: string, space: SearchSpace, db: string | undefined): ArchSpec {
  const size = space.input.size;
  if (typeof size !== 'number') {
    throw new UsageError(`--latency paired:${text}: the space chooses its input size; a paired reference needs a space with one input size`);
  }
  return loadArch([text], { input: size, channels: space.input.channels, classes: space.classes, db });
}

/** A paired source judging against `reference`, its figure measured now on `runner` (default: the local wasm backend). */
export async function pairedSourceFor(
  reference: ArchSpec,
  runner?: SourceRunner,
): Promise<LatencySourceSpec & { kind: 'paired'; referenceMs: number }> {
  const referenceMs = await lendRunner(runner)((r) => measureReference(r, reference, SEARCH_JUDGEMENT));
  return { kind: 'paired', reference: encodeArch(reference), referenceMs, ...(runner === undefined ? {} : { runner }) };
}

/** The source with its reference resolved and measured (a source already resolved, or another kind, as it is). */
export async function resolvePairedSource(source: LatencySourceSpec, space: SearchSpace, db?: string): Promise<LatencySourceSpec> {
  if (source.kind !== 'paired' || source.referenceMs !== null) return source;
  return pairedSourceFor(referenceFor(source.reference, space, db), source.runner);
}

/**
 * Targets with `latency=Nx` made absolute: N times the reference's figure (4 decimals of a ms, as the run stores
 * them). Only a resolved paired source has a reference; other targets are returned as typed.
 */
export function absoluteTargets(targets: readonly string[], source: LatencySourceSpec): string[] {
  return targets.map((text) => {
    const t = parseTarget(text);
    if (!t.relative || t.resource !== 'latency' || source.kind !== 'paired' || source.referenceMs === null) return text;
    const rest = text.split(',').slice(1);
    return [`latency=${(t.value * source.referenceMs).toFixed(4)}ms`, ...rest].join(',');
  });
}
