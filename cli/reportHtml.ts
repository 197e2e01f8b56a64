// The HTML file of `nas report`: one self-contained page, the report's data as JSON and the drawing script (Observable
// Plot bundled in, dist/web/report.js) inlined, so it opens from disk with no server and no network.
import type { ReportData } from '../results/reportTypes.js';

/** The id of the script element holding the data (web/report/data.ts reads it). */
const DATA_ID = 'nas-report-data';

const GENERATOR = '<meta name="generator" content="nas report">';

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
div.chart { padding: .5em; border: 1px solid #ddd; border-radius: 4px; }
div.chart h3 { font-size: 1em; margin: 0 0 .3em; }
.note { color: #666; font-size: .9em; margin: .3em 0; }
.error { color: #b00; }
table.candidates { border-collapse: collapse; font-size: 12px; }
table.candidates th { cursor: pointer; background: #f3f3f3; position: sticky; top: 0; }
table.candidates th, table.candidates td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
table.candidates td.arch { text-align: left; white-space: normal; word-break: break-all; min-width: 30em; }
tr[data-status=failed] { background: #fff0f0; }
`;

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON that cannot end the script element holding it (`<` is written as its escape, which JSON.parse reads back). */
export const scriptJson = (data: unknown): string => JSON.stringify(data).replace(/</g, '\\u003c');

/** Script text that cannot end its element early. */
const inlineScript = (js: string): string => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

export function reportHtml(data: ReportData, script: string): string {
  const title = `nas report: ${data.runs.map((r) => r.id).join(', ')}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    GENERATOR,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    '<main id="report"></main>',
    `<script type="application/json" id="${DATA_ID}">${scriptJson(data)}</script>`,
    `<script>${inlineScript(script)}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
