// Shared by tests of user errors raised in process: the error's class, one line, and what it must mention.
import assert from 'node:assert/strict';
import type { NasError } from '../common/errors.js';

export function failsWith(f: () => unknown, type: new (...a: never[]) => NasError, ...parts: string[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' should mention '${p}'`);
    return true;
  });
}
