// Run leases: who may write a run. A process holds a run while its heartbeat is fresh; a run whose heartbeat is older
// than the lease period may be taken over (a --resume), and each takeover raises the run's lease generation. The
// pair (owner, generation) is a fencing token: a process that was blocked or stopped past its heartbeat and lost the
// run meanwhile finds, at its next write, that the row holds another token, and stops without writing
// (search/lease.ts makes every write of a search check it in the write's own transaction).
import { NasError } from '../common/errors.js';

/** The lease period's default: a run whose heartbeat is older than this many seconds is stale. */
export const DEFAULT_LEASE_SECONDS = 60;

/** How many heartbeats fit in a lease period: a few may be late (a long synchronous stretch) before the run looks stale. */
export const BEATS_PER_LEASE = 6;

/**
 * The lease period in seconds: DEFAULT_LEASE_SECONDS, or NAS_LEASE_SECONDS (undocumented in --help; tests set it to
 * a second so that a takeover happens in seconds; docs/SEARCH.md).
 */
export function leaseSeconds(): number {
  const text = process.env['NAS_LEASE_SECONDS'];
  if (text === undefined || text === '') return DEFAULT_LEASE_SECONDS;
  const v = Number(text);
  if (!(Number.isFinite(v) && v > 0)) {
    throw new NasError('E_USAGE', `NAS_LEASE_SECONDS=${text}: expected a number of seconds > 0 (default ${DEFAULT_LEASE_SECONDS})`);
  }
  return v;
}

/** How often a run's owner refreshes its heartbeat. */
export function heartbeatSeconds(): number {
  return leaseSeconds() / BEATS_PER_LEASE;
}

/** What a process holds while it owns a run: the fencing token its writes are checked against. */
export interface Lease {
  readonly runId: string;
  /** `host:pid` (processOwner()). */
  readonly owner: string;
  /** The run's lease generation when this process took it; raised by every takeover. */
  readonly generation: number;
  readonly takenAt: string;
}

/** Thrown instead of a write by a process whose run was taken over: the one line it prints before it exits. */
export class LeaseLostError extends NasError {
  constructor(lease: Lease, holder: string | null, takenAt: string | null) {
    super('E_LEASE', `run ${lease.runId} was taken over by ${describeHolder(lease, holder)} at ${takenAt ?? 'an unknown time'}; this process stops without writing`, 3);
    this.name = 'LeaseLostError';
  }
}

function describeHolder(lease: Lease, holder: string | null): string {
  if (holder === null) return 'another process';
  if (holder === lease.owner) return 'another search in this process';
  const at = holder.lastIndexOf(':');
  return at < 0 ? `another process (${holder})` : `another process (pid ${holder.slice(at + 1)} on host ${holder.slice(0, at)})`;
}

/**
 * Renews the lease every heartbeatSeconds() until stop() (the timer does not keep the process alive). A lost lease
 * stops the beats (the next write reports it); any other failure of a beat is left to the next beat, since the
 * writes themselves are fenced: a late heartbeat can cost the run to a resume, never let two processes write it.
 */
export function startLeaseHeartbeat(
  store: { renewLease(lease: Lease): void },
  lease: Lease,
  everySeconds = heartbeatSeconds(),
): { stop(): void } {
  store.renewLease(lease);
  const timer = setInterval(() => {
    try {
      store.renewLease(lease);
    } catch (e) {
      if (e instanceof LeaseLostError) clearInterval(timer);
    }
  }, everySeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
