// Scores of a fidelity study, kept in the results store so that a rerun (after a kill, or with more settings)
// evaluates only what is missing. Each setting's evaluations are the candidates of one run of kind 'search' (the
// evaluator applied to a fixed list of architectures is what a search's candidates are: `nas results` and
// `run:ID#N` read them), keyed by an evaluation key of the evaluator, its config and the study seed; a done result
// of any earlier run with that key is reused instead of evaluated.
import { evalKeyOf, isJsonObject, type JsonValue } from '../../common/json.js';
import { evaluate as proxyEvaluate } from '../../proxy-train/evaluate.js';
import type { Store } from '../../results/store.js';
import { candidateSeed } from '../../search/seed.js';
import type { EvaluateFn } from '../../search/types.js';
import { evaluate as naswotEvaluate } from '../../zero-cost/naswotEvaluator.js';
import { evaluate as synflowEvaluate } from '../../zero-cost/synflowEvaluator.js';
import type { StudyArch } from './sample.js';
import type { EvaluatorName, ScoreSetting } from './settings.js';

/** The functions `nas search --evaluator NAME` runs for each candidate. */
const EVALUATORS: Readonly<Record<EvaluatorName, EvaluateFn>> = {
  proxy: proxyEvaluate,
  'zero-cost:naswot': naswotEvaluate,
  'zero-cost:synflow': synflowEvaluate,
};

export interface ScoreResult {
  /** Proxy: validation accuracy; zero-cost: the score (null: singular NASWOT kernel); null when it failed. */
  readonly value: number | null;
  /** Evaluation seconds as the evaluator measured them (data loading excluded); null when it failed. */
  readonly seconds: number | null;
  /** Read from the store rather than evaluated now. */
  readonly stored: boolean;
  readonly failure: string | null;
}

const num = (m: Readonly<Record<string, JsonValue>>, k: string): number | null => {
  const v = m[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** What the study reads from an evaluator's metrics. */
export function scoreOf(evaluator: EvaluatorName, metrics: JsonValue | null): Pick<ScoreResult, 'value' | 'seconds'> {
  if (!isJsonObject(metrics)) return { value: null, seconds: null };
  if (evaluator === 'proxy') {
    const train = num(metrics, 'trainSeconds');
    const evalS = num(metrics, 'evalSeconds');
    return { value: num(metrics, 'accuracy'), seconds: train === null || evalS === null ? null : train + evalS };
  }
  return { value: num(metrics, 'score'), seconds: num(metrics, 'scoreSeconds') };
}

export class ScoreBook {
  /** The run holding this invocation's new evaluations of each setting, made at its first evaluation. */
  private readonly runs = new Map<string, string>();

  /** `storedOnly`: evaluate nothing, read what is stored (a report of a study still running, or stopped). */
  constructor(
    private readonly store: Store,
    private readonly seed: number,
    private readonly storedOnly = false,
  ) {}

  private keyOf(s: ScoreSetting): string {
    return evalKeyOf({ bench: 'proxy-fidelity', evaluator: s.evaluator, config: s.config, seed: this.seed });
  }

  private runFor(s: ScoreSetting): string {
    const known = this.runs.get(s.label);
    if (known !== undefined) return known;
    const config = { bench: 'proxy-fidelity', setting: s.label, evaluator: s.evaluator, evaluatorConfig: s.config, seed: this.seed };
    const id = this.store.createRun({ kind: 'search', config, seed: this.seed }).id;
    this.runs.set(s.label, id);
    return id;
  }

  /** The stored score of `a` under `s`, or a new evaluation (stored as it finishes). */
  async score(s: ScoreSetting, a: StudyArch): Promise<ScoreResult> {
    const evalKey = this.keyOf(s);
    const cached = this.store.cachedResult(a.canonical, evalKey);
    if (cached !== null) return { ...scoreOf(s.evaluator, cached.metrics), stored: true, failure: null };
    if (this.storedOnly) return { value: null, seconds: null, stored: false, failure: 'not evaluated yet' };
    const runId = this.runFor(s);
    const { candidate } = this.store.enqueueCandidate({ runId, arch: a.canonical, evalKey, decisions: a.decisions });
    const seed = candidateSeed(this.seed, a.canonical);
    try {
      const metrics = await EVALUATORS[s.evaluator](a.arch, { seed, arch: a.canonical, decisions: a.decisions, config: s.config });
      const done = this.store.markCandidateDone(candidate.id, { metrics });
      return { ...scoreOf(s.evaluator, done.metrics), stored: false, failure: null };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.store.markCandidateFailed(candidate.id, why);
      return { value: null, seconds: null, stored: false, failure: why };
    }
  }

  /** Marks this invocation's runs finished. */
  finish(): void {
    for (const id of this.runs.values()) this.store.finishRun(id, { counts: this.store.countCandidates(id) });
  }
}
