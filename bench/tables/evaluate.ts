// The table evaluator: an evaluator module (search/types.ts EvaluateFn) that looks a candidate up in a benchmark
// table instead of training it. context.config is a TableSpec (table.ts); the row is the adapter's key of
// context.decisions, and the metrics are the row's (accuracy in [0, 1], mapped cost columns).
import { NasError } from '../../common/errors.js';
import { findSample } from '../../space/searchSpace.js';
import type { EvaluateFn } from '../../search/types.js';
import { openTable, tableSpecOf } from './table.js';

export const evaluate: EvaluateFn = async (arch, context) => {
  const table = await openTable(tableSpecOf(context.config));
  const { adapter, spec } = table;
  const decisions = context.decisions ?? findSample(adapter.searchSpace, arch);
  if (decisions === null) throw new NasError('E_ARCH', `table evaluator: ${context.arch} is not a point of space '${adapter.searchSpace.name}'`);
  const key = adapter.key(decisions);
  const row = table.rows.get(key);
  if (row === undefined) {
    throw new NasError('E_USAGE', `table ${spec.name}: no row with ${adapter.keyColumn} '${key}' (the adapter's key of sample [${decisions.join(',')}])`);
  }
  return row.metrics;
};
