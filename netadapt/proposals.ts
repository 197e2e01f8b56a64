// NetAdapt's proposals, computed on the architecture IR before any weight is touched (MobileNetV3 §5.2 / NetAdapt):
// shrink one expansion layer, or shrink the width of one bottleneck group (the blocks tied by residual adds, plus the
// block producing their input, must keep one width). Each proposal takes the largest multiple of 8 below the current
// width whose latency meets the step's budget. The stem and head.conv are not groups: the paper's proposals are the
// two kinds above, and the stem of a small-input network is already narrow.
import type { ArchSpec, Block } from '../space/arch.js';
import { type ResolvedArch, type ResolvedBlock, resolve } from '../space/resolve.js';

/** Shrink the depthwise width of block `block` (an `ir` block with an expand conv). */
export interface ExpansionShrink {
  readonly kind: 'expansion';
  /** Index of the block in network order (resolve's `blocks`). */
  readonly block: number;
  readonly from: number;
  readonly to: number;
}

/** Shrink the output width of the group: `blocks[0]` produces the width, the rest are joined to it by residual adds. */
export interface GroupShrink {
  readonly kind: 'group';
  readonly blocks: readonly number[];
  readonly from: number;
  readonly to: number;
}

export type Shrink = ExpansionShrink | GroupShrink;

export interface Proposal {
  readonly shrink: Shrink;
  readonly spec: ArchSpec;
  readonly latencyMs: number;
}

/** A latency estimate of a whole network (a LUT sum, a measurement, MAdds). */
export type LatencyFn = (spec: ArchSpec) => number | Promise<number>;

/**
 * The same network at width 1 with absolute widths, as resolve computes them; a width-1 spec is returned as is.
 * Proposals and weight transfer change absolute widths, which a multiplier would rescale.
 */
export function materialise(spec: ArchSpec): ArchSpec {
  if (spec.width === 1) return spec;
  const r = resolve(spec);
  let i = 0;
  const stages = spec.stages.map((stage) =>
    stage.map((b): Block => {
      const rb = r.blocks[i++];
      if (rb === undefined) throw new Error('resolve lost a block');
      return b.type === 'ir' ? { ...b, exp: rb.exp, out: rb.outC } : { ...b, out: rb.outC };
    }),
  );
  return {
    ...spec,
    width: 1,
    stem: { ...spec.stem, out: r.stem.outC },
    stages,
    head: { ...spec.head, conv: r.head.conv, hidden: r.head.hidden },
  };
}

/** Bottleneck groups in network order: a block without a residual add, then the blocks tied to it by residuals. */
export function bottleneckGroups(r: ResolvedArch): number[][] {
  const groups: number[][] = [];
  r.blocks.forEach((b, i) => {
    const last = groups[groups.length - 1];
    if (b.residual && last !== undefined) last.push(i);
    else groups.push([i]);
  });
  return groups;
}

/** A spec with block `index` (network order) replaced by `f(block)`. */
function mapBlock(spec: ArchSpec, index: number, f: (b: Block) => Block): ArchSpec {
  let i = 0;
  return { ...spec, stages: spec.stages.map((stage) => stage.map((b) => (i++ === index ? f(b) : b))) };
}

/** Whether the block reads its input straight into the depthwise conv (no expand conv), so its dw width follows. */
export function passesInput(b: ResolvedBlock): boolean {
  return b.type === 'ds' || (b.type === 'ir' && !b.hasExpand);
}

/** The spec after a shrink (no checks). */
export function applyShrink(spec: ArchSpec, s: Shrink): ArchSpec {
  if (s.kind === 'expansion') return mapBlock(spec, s.block, (b) => (b.type === 'ir' ? { ...b, exp: s.to } : b));
  const r = resolve(spec);
  const last = s.blocks[s.blocks.length - 1] ?? -1;
  let out = spec;
  for (const i of s.blocks) {
    const tied = i !== s.blocks[0];
    const rb = r.blocks[i];
    out = mapBlock(out, i, (b) => {
      // A tied block without an expand conv has its dw at the group width: it shrinks too.
      const exp = tied && b.type === 'ir' && rb !== undefined && !rb.hasExpand ? { exp: s.to } : {};
      return { ...b, ...exp, out: s.to };
    });
  }
  const next = r.blocks[last + 1];
  if (next !== undefined && next.type === 'ir' && !next.hasExpand) {
    out = mapBlock(out, last + 1, (b) => (b.type === 'ir' ? { ...b, exp: s.to } : b));
  }
  return out;
}

/**
 * Whether `after` wires like `before`: same residual adds and expand convs. A width that would create a residual
 * (a block whose in and out become equal) or remove an expand conv is skipped: it changes the function, not a width.
 */
export function sameStructure(before: ResolvedArch, after: ResolvedArch): boolean {
  return before.blocks.every((b, i) => {
    const a = after.blocks[i];
    return a !== undefined && a.residual === b.residual && a.hasExpand === b.hasExpand;
  });
}

/** Multiples of 8 below `width`, largest first, down to 8. */
export function smallerWidths(width: number): number[] {
  const out: number[] = [];
  for (let w = Math.floor((width - 1) / 8) * 8; w >= 8; w -= 8) out.push(w);
  return out;
}

/** Every shrinkable layer of a width-1 spec, as the shrinks to its next width down (candidates, before budgets). */
export function shrinkTargets(spec: ArchSpec): { readonly kind: Shrink['kind']; readonly blocks: readonly number[]; readonly width: number }[] {
  const r = resolve(spec);
  const out: { kind: Shrink['kind']; blocks: readonly number[]; width: number }[] = [];
  r.blocks.forEach((b, i) => {
    if (b.type === 'ir' && b.hasExpand) out.push({ kind: 'expansion', blocks: [i], width: b.exp });
  });
  for (const g of bottleneckGroups(r)) {
    const first = r.blocks[g[0] ?? -1];
    // A group whose first block adds its input is tied to the stem, which does not shrink.
    if (first !== undefined && !first.residual) out.push({ kind: 'group', blocks: g, width: first.outC });
  }
  return out;
}

function shrinkOf(kind: Shrink['kind'], blocks: readonly number[], from: number, to: number): Shrink {
  return kind === 'expansion' ? { kind, block: blocks[0] ?? 0, from, to } : { kind, blocks, from, to };
}

/** What a shrink changed, for tables and logs: `expansion s2.b1 240->200`, `group s2.b0+s2.b1+s2.b2 40->32`. */
export function describeShrink(spec: ArchSpec, s: Shrink): string {
  const r = resolve(spec);
  const paths = (s.kind === 'expansion' ? [s.block] : s.blocks).map((i) => r.blocks[i]?.path ?? `#${i}`);
  return `${s.kind} ${paths.join('+')} ${s.from}->${s.to}`;
}

/**
 * NetAdapt's proposals for one step: for every layer, the largest multiple of 8 below its width whose latency is at
 * most `budgetMs`, keeping the network's wiring; a layer that cannot meet the budget even at 8 gives no proposal.
 * `spec` must be at width 1 (materialise it first).
 */
export async function makeProposals(spec: ArchSpec, budgetMs: number, latency: LatencyFn): Promise<Proposal[]> {
  if (spec.width !== 1) throw new Error('makeProposals needs a width-1 spec (materialise it first)');
  const before = resolve(spec);
  const out: Proposal[] = [];
  for (const t of shrinkTargets(spec)) {
    for (const w of smallerWidths(t.width)) {
      const shrink = shrinkOf(t.kind, t.blocks, t.width, w);
      const next = applyShrink(spec, shrink);
      if (!sameStructure(before, resolve(next))) continue;
      const ms = await latency(next);
      if (ms <= budgetMs) {
        out.push({ shrink, spec: next, latencyMs: ms });
        break;
      }
    }
  }
  return out;
}

/**
 * The smallest network reachable by proposals: every layer at its smallest width that keeps the wiring. NetAdapt
 * cannot go below it; a target under its latency cannot be met.
 */
export function smallestReachable(spec: ArchSpec): ArchSpec {
  let cur = spec;
  for (;;) {
    const before = resolve(cur);
    let changed = false;
    for (const t of shrinkTargets(cur)) {
      for (const w of [...smallerWidths(t.width)].reverse()) {
        const next = applyShrink(cur, shrinkOf(t.kind, t.blocks, t.width, w));
        if (sameStructure(before, resolve(next))) {
          cur = next;
          changed = true;
          break;
        }
      }
      if (changed) break;
    }
    if (!changed) return cur;
  }
}
