// Text forms of results that several layers print: a fixed-width table, grouped thousands.

/** A fixed-width text table; numeric-looking cells are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = /^[-+]?[\d,.]+[%MKkx]?$|^[\d]+x[\d]+x[\d]+$/;
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric.test(c) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** 5483032 -> "5,483,032". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
