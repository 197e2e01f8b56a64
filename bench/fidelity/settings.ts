// What a fidelity study scores each architecture with: the proxy evaluator at named settings (its defaults and
// cheaper and dearer ones), the zero-cost scores, and params and MAdds as trivial baselines. Each setting is an
// evaluator the search itself loads (`--evaluator proxy | zero-cost:NAME`) and the config it would hand it.
import { UsageError } from '../../common/errors.js';
import type { JsonValue } from '../../common/json.js';
import { completeProxyJson } from '../../proxy-train/config.js';
import { FINAL_EPOCH } from '../../proxy-train/presets.js';
import { parseZeroCostConfig } from '../../zero-cost/config.js';

export type EvaluatorName = 'proxy' | 'zero-cost:naswot' | 'zero-cost:synflow';

export interface ScoreSetting {
  /** The name in tables and JSON: `proxy:default`, `zero-cost:naswot`... */
  readonly label: string;
  readonly evaluator: EvaluatorName;
  /** The evaluator config (context.config), as a search run would store it (a proxy's with every key named). */
  readonly config: Readonly<Record<string, JsonValue>>;
}

/**
 * The named proxy settings, relative to the proxy evaluator's defaults (proxy-train/config.ts: 1 epoch over 8,192
 * images at the architecture's own size): half and twice the training; a fixed 32 px; and half the size (16 px, a
 * quarter of the compute per image), with one epoch (the default until 2026-12-07) and with half of one.
 */
type Presets = Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;

export const PROXY_PRESETS: Presets = {
  cheap: { proxyEpochs: 0.5 },
  default: {},
  dear: { proxyEpochs: 2 },
  input32: { input: 32 },
  input16: { input: 16 },
  cheap16: { input: 16, proxyEpochs: 0.5 },
};

export const DEFAULT_PROXY_SETTINGS = ['cheap', 'default', 'dear'] as const;

/** A `--settings` value: a preset name, or `LABEL:key=value[,key=value]` on top of the proxy defaults. */
function parseOne(text: string, base: Readonly<Record<string, JsonValue>>, presets: Presets): ScoreSetting {
  const preset = presets[text];
  if (preset !== undefined) return { label: `proxy:${text}`, evaluator: 'proxy', config: { ...base, ...preset } };
  const m = /^([A-Za-z][\w-]*):(.+)$/.exec(text);
  if (m === null) {
    throw new UsageError(`--settings ${text}: expected one of ${Object.keys(presets).join(', ')} or LABEL:key=value[,key=value], e.g. long:proxyEpochs=4`);
  }
  const config: Record<string, JsonValue> = { ...base };
  for (const pair of (m[2] ?? '').split(',')) {
    const kv = /^(\w+)=(.+)$/.exec(pair);
    if (kv === null) throw new UsageError(`--settings ${text}: '${pair}' is not key=value`);
    const raw = kv[2] ?? '';
    config[kv[1] ?? ''] = raw === 'null' ? null : Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return { label: `proxy:${m[1] ?? ''}`, evaluator: 'proxy', config };
}

/**
 * The proxy settings, checked as the search checks them (one-line UsageError naming the key). `final-epoch` is one
 * epoch of the study's training recipe on every training image (proxy-train/presets.ts).
 */
export function proxySettings(texts: readonly string[], base: Readonly<Record<string, JsonValue>>, finalEpoch: Readonly<Record<string, JsonValue>>): ScoreSetting[] {
  const presets: Presets = { ...PROXY_PRESETS, [FINAL_EPOCH]: finalEpoch };
  // Every setting named, as a search run stores it: a study's stored scores keep their meaning when a default changes.
  const out = texts.map((t) => parseOne(t, base, presets)).map((s) => ({ ...s, config: completeProxyJson(s.config, false) }));
  const labels = out.map((s) => s.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice !== undefined) throw new UsageError(`--settings names ${twice} twice; give each setting once`);
  return out;
}

/** naswot and synflow with the zero-cost evaluator's config. */
export function zeroCostSettings(config: Readonly<Record<string, JsonValue>>): ScoreSetting[] {
  parseZeroCostConfig(config);
  return [
    { label: 'zero-cost:naswot', evaluator: 'zero-cost:naswot', config },
    { label: 'zero-cost:synflow', evaluator: 'zero-cost:synflow', config },
  ];
}
