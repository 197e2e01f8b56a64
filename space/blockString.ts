// Block strings (like timm's and TPU MnasNet's, with an absolute expansion width) and the canonical string of a
// whole architecture, which is its identity: cache key, database key, dedup key.
//
// Block:  {conv|ds|ir}_k{K}_s{S}[_x{EXP}]_c{OUT}[_se|_se{R}|_sem{R}]_{re|r6|hs}[_noskip]
//   x{EXP}  absolute depthwise width, ir blocks only (required there)
//   se      MobileNetV3 SE: ratio 0.25 of the expanded width, hard-sigmoid gate
//   se{R}   MobileNetV3 SE with ratio R;  sem{R}: MnasNet SE, ratio R of the block input, sigmoid gate
//   re|r6|hs  relu | relu6 | hswish;  noskip: no residual even where one fits (skip is the default)
//   e.g. ir_k5_s2_x72_c40_se_re
//
// Whole arch (no spaces or shell metacharacters, so it is one command-line word), sections joined by ':':
//   v1_in{SIZE}x{CH}_cls{CLASSES}_w{WIDTH}_pad{sym|same}_bn{DECAY}_eps{EPS}_drop{DROPOUT}
//   :stem_k{K}_s{S}_c{OUT}_{act}
//   :{stage 0}:{stage 1}:...      a stage is its blocks joined by ','
//   :head_c{CONV}[_h{HIDDEN}]_{act}
//   e.g. v1_in224x3_cls1000_w1_padsym_bn0.99_eps0.001_drop0.2:stem_k3_s2_c16_hs:ir_k3_s1_x16_c16_re:
//        ir_k3_s2_x64_c24_re,ir_k3_s1_x72_c24_re:...:head_c960_h1280_hs   (one line)
// Token order is fixed and numbers are printed with JS's shortest round-trip form, so equal specs give equal strings.
import { ArchError } from '../common/errors.js';
import type { Activation, ArchSpec, Block, Head, SqueezeExcite, Stem } from './arch.js';
import {
  kernelRule,
  positiveIntRule,
  type Rule,
  seRatioRule,
  seStyleProblem,
  strideRule,
  validateArchSpec,
} from './validate.js';

export const BLOCK_GRAMMAR = '{conv|ds|ir}_k{K}_s{S}[_x{EXP} (ir only)]_c{OUT}[_se|_se{R}|_sem{R}]_{re|r6|hs}[_noskip]';
export const ARCH_GRAMMAR =
  'v1_in{SIZE}x{CH}_cls{N}_w{W}_pad{sym|same}_bn{DECAY}_eps{EPS}_drop{P}:stem_k{K}_s{S}_c{C}_{act}:{stage}:...:head_c{C}[_h{H}]_{act}, a stage being block strings joined by ","';

/** The activation codes of block strings, also the ones in latency lookup-table keys (latency/lut.ts). */
export const ACT_CODE: Readonly<Record<Activation, string>> = { relu: 're', relu6: 'r6', hswish: 'hs' };
const CODE_ACT: ReadonlyMap<string, Activation> = new Map(
  (['relu', 'relu6', 'hswish'] as const).map((a): [string, Activation] => [ACT_CODE[a], a]),
);
const V3_SE_RATIO = 0.25;

const fmt = (n: number): string => String(n);

/** What a grammar placeholder stands for, in error messages. */
const MEANING: Readonly<Record<string, string>> = {
  K: 'kernel',
  S: 'stride',
  EXP: 'expansion width',
  OUT: 'output width',
  C: 'channels',
  H: 'hidden width',
  N: 'classes',
  W: 'width',
  DECAY: 'BN decay',
  EPS: 'BN eps',
  P: 'dropout',
};

function encodeSe(se: SqueezeExcite): string {
  const problem = seStyleProblem(se);
  if (problem !== null) throw new ArchError(`cannot encode SE: ${problem}`);
  if (se.of === 'input') return `sem${fmt(se.ratio)}`;
  return se.ratio === V3_SE_RATIO ? 'se' : `se${fmt(se.ratio)}`;
}

/** The canonical block string of `b`. */
export function encodeBlock(b: Block): string {
  const t: string[] = [b.type, `k${b.kernel}`, `s${b.stride}`];
  if (b.type === 'ir') t.push(`x${b.exp}`);
  t.push(`c${b.out}`);
  if (b.type !== 'conv' && b.se !== null) t.push(encodeSe(b.se));
  t.push(ACT_CODE[b.act]);
  if (!b.skip) t.push('noskip');
  return t.join('_');
}

/** Walks the '_'-separated tokens of one string in the fixed grammar order; errors name the offending token. */
class Tokens {
  private readonly toks: string[];
  private i = 0;

  constructor(
    text: string,
    private readonly fail: (problem: string) => ArchError,
  ) {
    this.toks = text.split('_');
  }

  peek(): string | undefined {
    return this.toks[this.i];
  }

  next(): string | undefined {
    return this.toks[this.i++];
  }

  /** A required `{prefix}{integer}` token checked by `rule`. */
  int(prefix: string, what: string, rule: Rule): number {
    const tok = this.next();
    if (tok === undefined) throw this.fail(`missing ${prefix}{${what}} at the end`);
    const m = new RegExp(`^${prefix}(0|[1-9][0-9]*)$`).exec(tok);
    if (!m) throw this.fail(`token '${tok}' should be ${prefix}{${what}}`);
    const v = Number(m[1]);
    const problem = rule(v);
    if (problem !== null) throw this.fail(`token '${tok}': ${MEANING[what] ?? what} ${problem}`);
    return v;
  }

  /** A required `{prefix}{decimal}` token checked by `rule`. */
  decimal(prefix: string, what: string, rule: Rule): number {
    const tok = this.next();
    if (tok === undefined) throw this.fail(`missing ${prefix}{${what}} at the end`);
    const v = tok.startsWith(prefix) ? parseDecimal(tok.slice(prefix.length)) : null;
    if (v === null) throw this.fail(`token '${tok}' should be ${prefix}{${what}}`);
    const problem = rule(v);
    if (problem !== null) throw this.fail(`token '${tok}': ${MEANING[what] ?? what} ${problem}`);
    return v;
  }

  act(): Activation {
    const tok = this.next();
    if (tok === undefined) throw this.fail('missing the activation (re, r6 or hs) at the end');
    const act = CODE_ACT.get(tok);
    if (act === undefined) throw this.fail(`token '${tok}' should be the activation re, r6 or hs`);
    return act;
  }

  end(): void {
    const tok = this.next();
    if (tok !== undefined) throw this.fail(`unexpected token '${tok}'`);
  }
}

function parseDecimal(s: string): number | null {
  if (!/^[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?$/.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

function blockError(s: string, problem: string): ArchError {
  return new ArchError(`bad block string '${s}': ${problem}; grammar: ${BLOCK_GRAMMAR}`);
}

/** Parse one block string; a malformed string is an ArchError naming the wrong token and the grammar. */
export function decodeBlock(s: string): Block {
  const t = new Tokens(s, (p) => blockError(s, p));
  const type = t.next();
  if (type !== 'conv' && type !== 'ds' && type !== 'ir') {
    throw blockError(s, `token '${type ?? ''}' should be the block type conv, ds or ir`);
  }
  const kernel = t.int('k', 'K', kernelRule);
  const stride = t.int('s', 'S', strideRule);
  let exp = 0;
  if (type === 'ir') {
    const tok = t.peek();
    if (tok === undefined || !tok.startsWith('x')) {
      throw blockError(s, `${tok === undefined ? 'missing' : `token '${tok}' where`} x{EXP} is required (ir blocks need an expansion width)`);
    }
    exp = t.int('x', 'EXP', positiveIntRule);
  } else if (t.peek()?.startsWith('x')) {
    throw blockError(s, `token '${t.peek() ?? ''}': x{EXP} is for ir blocks only`);
  }
  const out = t.int('c', 'OUT', positiveIntRule);
  let se: SqueezeExcite | null = null;
  const seTok = t.peek();
  if (seTok?.startsWith('se')) {
    if (type === 'conv') throw blockError(s, `token '${seTok}': conv blocks take no SE`);
    se = decodeSe(seTok, (p) => blockError(s, p));
    t.next();
  }
  const act = t.act();
  let skip = true;
  if (t.peek() === 'noskip') {
    skip = false;
    t.next();
  }
  t.end();
  if (type === 'conv') return { type, kernel, stride, out, act, skip };
  if (type === 'ds') return { type, kernel, stride, out, se, act, skip };
  return { type, kernel, stride, exp, out, se, act, skip };
}

function decodeSe(tok: string, fail: (p: string) => ArchError): SqueezeExcite {
  const mnas = tok.startsWith('sem');
  const rest = tok.slice(mnas ? 3 : 2);
  if (rest === '' && mnas) throw fail(`token '${tok}': sem needs a ratio, e.g. sem0.25`);
  const ratio = rest === '' ? V3_SE_RATIO : parseDecimal(rest);
  if (ratio === null) throw fail(`token '${tok}' should be se, se{R} or sem{R} with R a decimal number`);
  const problem = seRatioRule(ratio);
  if (problem !== null) throw fail(`token '${tok}': SE ratio ${problem}`);
  return mnas ? { ratio, of: 'input', gate: 'sigmoid' } : { ratio, of: 'expanded', gate: 'hsigmoid' };
}

function encodeStem(s: Stem): string {
  return `stem_k${s.kernel}_s${s.stride}_c${s.out}_${ACT_CODE[s.act]}`;
}

function encodeHead(h: Head): string {
  return h.hidden === null ? `head_c${h.conv}_${ACT_CODE[h.act]}` : `head_c${h.conv}_h${h.hidden}_${ACT_CODE[h.act]}`;
}

/** The canonical one-line string of a whole architecture (everything but its name); see the format above. */
export function encodeArch(spec: ArchSpec): string {
  const header = [
    `v${spec.version}`,
    `in${spec.input.size}x${spec.input.channels}`,
    `cls${spec.classes}`,
    `w${fmt(spec.width)}`,
    `pad${spec.padding === 'symmetric' ? 'sym' : 'same'}`,
    `bn${fmt(spec.bn.decay)}`,
    `eps${fmt(spec.bn.eps)}`,
    `drop${fmt(spec.dropout)}`,
  ].join('_');
  const stages = spec.stages.map((stage) => stage.map(encodeBlock).join(','));
  return [header, encodeStem(spec.stem), ...stages, encodeHead(spec.head)].join(':');
}

function archError(problem: string): ArchError {
  return new ArchError(`bad arch string: ${problem}; format: ${ARCH_GRAMMAR}`);
}

const anyNumber: Rule = () => null;

/** Parse a canonical arch string back into a spec named `name`; ranges are checked as in validateArchSpec. */
export function decodeArch(s: string, name = 'custom'): ArchSpec {
  const sections = s.split(':');
  if (sections.length < 3) throw archError(`expected at least header:stem:head sections, got ${sections.length}`);
  const headerText = sections[0] ?? '';
  const stemText = sections[1] ?? '';
  const headText = sections[sections.length - 1] ?? '';
  const stageTexts = sections.slice(2, -1);

  const h = new Tokens(headerText, (p) => archError(`header '${headerText}': ${p}`));
  if (h.next() !== 'v1') throw archError(`header '${headerText}' should start with v1 (the only version)`);
  const inTok = h.next() ?? '';
  const inMatch = /^in(0|[1-9][0-9]*)x(0|[1-9][0-9]*)$/.exec(inTok);
  if (!inMatch) throw archError(`header token '${inTok}' should be in{SIZE}x{CH}`);
  const classes = h.int('cls', 'N', anyNumber);
  const width = h.decimal('w', 'W', anyNumber);
  const padTok = h.next() ?? '';
  if (padTok !== 'padsym' && padTok !== 'padsame') throw archError(`header token '${padTok}' should be padsym or padsame`);
  const decay = h.decimal('bn', 'DECAY', anyNumber);
  const eps = h.decimal('eps', 'EPS', anyNumber);
  const dropout = h.decimal('drop', 'P', anyNumber);
  h.end();

  const st = new Tokens(stemText, (p) => archError(`stem '${stemText}': ${p}`));
  if (st.next() !== 'stem') throw archError(`second section '${stemText}' should be stem_k{K}_s{S}_c{C}_{act}`);
  const stem: Stem = {
    kernel: st.int('k', 'K', kernelRule),
    stride: st.int('s', 'S', strideRule),
    out: st.int('c', 'C', positiveIntRule),
    act: st.act(),
  };
  st.end();

  const hd = new Tokens(headText, (p) => archError(`head '${headText}': ${p}`));
  if (hd.next() !== 'head') throw archError(`last section '${headText}' should be head_c{C}[_h{H}]_{act}`);
  const conv = hd.int('c', 'C', positiveIntRule);
  const hidden = hd.peek()?.startsWith('h') && hd.peek() !== 'hs' ? hd.int('h', 'H', positiveIntRule) : null;
  const head: Head = { conv, hidden, act: hd.act() };
  hd.end();

  const stages = stageTexts.map((text, i) => {
    if (text === '') throw archError(`stage ${i} is empty`);
    return text.split(',').map(decodeBlock);
  });

  try {
    return validateArchSpec({
      version: 1,
      name,
      input: { size: Number(inMatch[1]), channels: Number(inMatch[2]) },
      classes,
      width,
      padding: padTok === 'padsym' ? 'symmetric' : 'same',
      bn: { decay, eps },
      dropout,
      stem,
      stages,
      head,
    });
  } catch (e) {
    if (e instanceof ArchError) throw archError(e.message);
    throw e;
  }
}
