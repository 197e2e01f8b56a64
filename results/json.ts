// The store's JSON columns: what goes in is checked (common/json.ts), and the database checks it again with
// json_valid, so no tool can store text that does not parse.
import { checkJson, type JsonValue } from '../common/json.js';

// Kept until search/loop.ts imports them from common/json.ts (the lead's restructuring of the loop switches it).

/** JSON text for a column; throws JsonColumnError for NaN, Infinity, undefined, functions, class instances. */
export function encodeJson(value: unknown, column: string): string {
  checkJson(value, column);
  return JSON.stringify(value);
}

export function encodeJsonOrNull(value: unknown, column: string): string | null {
  return value === undefined || value === null ? null : encodeJson(value, column);
}

export function decodeJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

export function decodeJsonOrNull(text: string | null): JsonValue | null {
  return text === null ? null : decodeJson(text);
}
