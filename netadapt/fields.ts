// Reading JSON back with its shape checked, field by field, so that damaged data is one line naming where it is
// damaged (`iterations[0].accuracy must be a finite number, got "high"`) rather than a crash later. The caller says
// who reports it (fail), e.g. as a damaged row of the results store.
import { show } from '../space/validate.js';

/** Reports what is wrong at a path; never returns. */
export type Fail = (path: string, why: string) => never;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The fields of one JSON object. */
export class Fields {
  private constructor(
    private readonly o: Readonly<Record<string, unknown>>,
    readonly path: string,
    readonly fail: Fail,
  ) {}

  static of(v: unknown, path: string, fail: Fail): Fields {
    if (!isRecord(v)) return fail(path, `must be an object, got ${show(v)}`);
    return new Fields(v, path, fail);
  }

  /** The path of a field, for messages. */
  at(k: string): string {
    return this.path === '' ? k : `${this.path}.${k}`;
  }

  has(k: string): boolean {
    return this.o[k] !== undefined;
  }

  /** A field read by `parse`, whose errors (a thrown Error) are reported at the field. */
  read<T>(k: string, parse: (v: unknown, path: string) => T): T {
    const path = this.at(k);
    try {
      return parse(this.o[k], path);
    } catch (e) {
      return this.fail(path, e instanceof Error ? e.message : String(e));
    }
  }

  obj(k: string): Fields {
    return Fields.of(this.o[k], this.at(k), this.fail);
  }

  /** A finite number (an integer when `int`), at least `min`. */
  num(k: string, opts: { readonly int?: boolean; readonly min?: number } = {}): number {
    const v = this.o[k];
    const kind = opts.int === true ? 'an integer' : 'a finite number';
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.int === true && !Number.isInteger(v))) {
      return this.fail(this.at(k), `must be ${kind}, got ${show(v)}`);
    }
    if (opts.min !== undefined && v < opts.min) return this.fail(this.at(k), `must be ${kind} >= ${opts.min}, got ${v}`);
    return v;
  }

  int(k: string, min = 0): number {
    return this.num(k, { int: true, min });
  }

  str(k: string): string {
    const v = this.o[k];
    return typeof v === 'string' ? v : this.fail(this.at(k), `must be a string, got ${show(v)}`);
  }

  bool(k: string): boolean {
    const v = this.o[k];
    return typeof v === 'boolean' ? v : this.fail(this.at(k), `must be true or false, got ${show(v)}`);
  }

  oneOf<T extends string | null>(k: string, values: readonly T[]): T {
    const v = this.o[k];
    const found = values.find((x) => x === v);
    if (found === undefined) return this.fail(this.at(k), `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${show(v)}`);
    return found;
  }

  /** null, or the field read by `read` (given this object and the key). */
  orNull<T>(k: string, read: (f: Fields, k: string) => T): T | null {
    return this.o[k] === null ? null : read(this, k);
  }

  /** An array, each element read by `read` (given the element and its path). */
  list<T>(k: string, read: (v: unknown, path: string) => T): T[] {
    return listOf(this.o[k], this.at(k), this.fail, read);
  }

  /** A string, or null. */
  strOrNull(k: string): string | null {
    return this.orNull(k, (f, key) => f.str(key));
  }

  /** A finite number, or null. */
  numOrNull(k: string): number | null {
    return this.orNull(k, (f, key) => f.num(key));
  }
}

/** An array at the top (a column that holds a list), each element read by `read`. */
export function listOf<T>(v: unknown, path: string, fail: Fail, read: (x: unknown, path: string) => T): T[] {
  if (!Array.isArray(v)) return fail(path, `must be an array, got ${show(v)}`);
  return v.map((x: unknown, i) => read(x, `${path}[${i}]`));
}
