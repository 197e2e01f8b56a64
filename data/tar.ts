// A small streaming reader of (ustar / GNU / pax) tar archives, enough to unpack the CIFAR-10 archive without a
// dependency. Entries are handed over one at a time with their data as an async stream of chunks.
import { NasError } from '../common/errors.js';

export interface TarEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'other';
  readonly size: number;
}

/** Exact-size reads over an async stream of chunks. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Bytes consumed so far (for error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Makes bytes available; false at the end of the stream. */
  private async more(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      const r = await this.it.next();
      if (r.done) return false;
      this.chunk = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** Up to n bytes (fewer only at the end of the stream), as views into the chunks. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0 && (await this.more())) {
      const k = Math.min(left, this.chunk.length - this.pos);
      const piece = this.chunk.subarray(this.pos, this.pos + k);
      this.pos += k;
      this.offset += k;
      left -= k;
      yield piece;
    }
  }

  /** Exactly n bytes, or null when the stream ends first. */
  async read(n: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let got = 0;
    for await (const piece of this.take(n)) {
      out.set(piece, got);
      got += piece.length;
    }
    return got === n ? out : null;
  }

  async skip(n: number): Promise<number> {
    let got = 0;
    for await (const piece of this.take(n)) got += piece.length;
    return got;
  }
}

const decoder = new TextDecoder();

function text(h: Uint8Array, from: number, len: number): string {
  const field = h.subarray(from, from + len);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

function octal(h: Uint8Array, from: number, len: number): number {
  if ((h[from]! & 0x80) !== 0) {
    // GNU base-256 for sizes over 8 GiB.
    let v = h[from]! & 0x7f;
    for (let i = from + 1; i < from + len; i++) v = v * 256 + h[i]!;
    return v;
  }
  const s = text(h, from, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === octal(h, 148, 8);
}

/** pax extended header records: "<len> key=value\n". */
function paxPath(data: Uint8Array): string | undefined {
  const s = decoder.decode(data);
  let path: string | undefined;
  let i = 0;
  while (i < s.length) {
    const space = s.indexOf(' ', i);
    const len = parseInt(s.slice(i, space), 10);
    if (!(len > 0)) break;
    const record = s.slice(space + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    i += len;
  }
  return path;
}

/**
 * Calls onEntry for each entry of the archive in order; what onEntry leaves of an entry's data is skipped. A bad
 * header checksum or an archive cut short is an E_IO NasError.
 */
export async function readTar(
  source: AsyncIterable<Uint8Array>,
  onEntry: (entry: TarEntry, data: AsyncIterable<Uint8Array>) => Promise<void>,
  what = 'tar archive',
): Promise<void> {
  const r = new ByteReader(source);
  const cut = (): NasError => new NasError('E_IO', `${what} is truncated at byte ${r.offset}`);
  let longName: string | undefined;
  for (;;) {
    const at = r.offset;
    const h = await r.read(512);
    if (!h) {
      if (r.offset === at) return; // no end-of-archive blocks, but nothing cut either
      throw cut();
    }
    if (h.every((b) => b === 0)) return;
    if (!checksumOk(h)) throw new NasError('E_IO', `${what} is corrupt: bad tar header checksum at byte ${at}`);
    const size = octal(h, 124, 12);
    const flag = String.fromCharCode(h[156]!);
    const padded = Math.ceil(size / 512) * 512;
    if (flag === 'L' || flag === 'x') {
      const data = await r.read(padded);
      if (!data) throw cut();
      longName = flag === 'L' ? text(data, 0, size) : (paxPath(data.subarray(0, size)) ?? longName);
      continue;
    }
    let name = text(h, 0, 100);
    const prefix = text(h, 257, 6).startsWith('ustar') ? text(h, 345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
    if (longName !== undefined) name = longName;
    longName = undefined;
    const type = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : 'other';
    const body = r.take(type === 'directory' ? 0 : size);
    let consumed = 0;
    const counted = (async function* () {
      for await (const piece of body) {
        consumed += piece.length;
        yield piece;
      }
    })();
    await onEntry({ name, type, size }, counted);
    const rest = (type === 'directory' ? 0 : size) - consumed;
    if ((await r.skip(rest)) !== rest) throw cut();
    const pad = (type === 'directory' ? 0 : padded) - size;
    if ((await r.skip(pad)) !== pad) throw cut();
  }
}
