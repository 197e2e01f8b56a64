// The networks the latency page keeps built between requests (latency/prepared.ts), by the id it answers for them.
import type { PreparedArchs } from '../prepared.js';
import type { PreparedRef, PreparedRuns } from './protocol.js';

const held = new Map<number, PreparedArchs>();
let nextId = 1;

export function hold(prepared: PreparedArchs): number {
  const id = nextId++;
  held.set(id, prepared);
  return id;
}

function heldAs(req: PreparedRef): PreparedArchs {
  const p = held.get(req.id);
  if (p === undefined) throw new Error(`no prepared networks ${req.id} in the page (closed, or never prepared)`);
  return p;
}

export const timePrepared = (req: PreparedRuns): Promise<number[]> => heldAs(req).time(req.index, req.runs);

export async function closePrepared(req: PreparedRef): Promise<void> {
  const p = heldAs(req);
  held.delete(req.id);
  await p.close();
}
