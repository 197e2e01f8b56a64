// Printing results: every command returns a plain result object; `--json` prints it as JSON, otherwise the
// command's text form. Exit codes and error printing live in main.ts.

// The text helpers live in common/ so that a library's report (netadapt/report.ts) can use them too.
export { table, thousands } from '../common/textTable.js';

/** Print a command's result: JSON when asked, else the command's human form. */
export function emit<T>(result: T, json: boolean, toText: (r: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${toText(result)}\n`);
}
