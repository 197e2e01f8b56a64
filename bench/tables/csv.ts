// Reading a benchmark table: a CSV file with a header row (RFC 4180: commas, double-quoted fields with "" for a
// quote, LF or CRLF line ends), plain or gzipped (recognised by its magic bytes, whatever the file is called).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../../common/errors.js';

export interface Csv {
  readonly header: readonly string[];
  /** Every row has header.length fields. */
  readonly rows: readonly (readonly string[])[];
}

/** Splits CSV text into records of fields. */
export function parseCsv(text: string): string[][] {
  // Fast path: without quotes a record is a line and a field is what lies between commas.
  if (!text.includes('"')) return text.split(/\r?\n/).filter((l) => l !== '').map((l) => l.split(','));
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = (): void => {
    fields.push(field);
    field = '';
  };
  const endRecord = (): void => {
    endField();
    if (fields.length > 1 || fields[0] !== '') records.push(fields);
    fields = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') endRecord();
    else if (c !== '\r' || text[i + 1] !== '\n') field += c;
    i++;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

/** The table at `path`; a missing, unreadable or ragged file is a one-line UsageError naming it. */
export function readCsvFile(path: string, label = path): Csv {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new UsageError(`table ${label}: ${why}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new UsageError(`table ${label}: cannot decompress (${(e as Error).message})`);
    }
  }
  const [header, ...rows] = parseCsv(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  if (header === undefined || rows.length === 0) throw new UsageError(`table ${label}: expected a CSV header row and at least one data row`);
  const bad = rows.findIndex((r) => r.length !== header.length);
  if (bad >= 0) {
    throw new UsageError(`table ${label}: data row ${bad + 1} has ${rows[bad]?.length} fields, the header ${header.length}`);
  }
  return { header, rows };
}
