// Printing results: every command returns a plain result object; `--json` prints it as JSON, otherwise the
// command's text form. Exit codes and error printing live in main.ts.

/** Print a command's result: JSON when asked, else the command's human form. */
export function emit<T>(result: T, json: boolean, toText: (r: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${toText(result)}\n`);
}

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
