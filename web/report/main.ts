// The page of `nas report`: reads the embedded data and draws each kind of run it holds. Bundled with Observable
// Plot into one script (web/build.mjs) that `nas report` inlines, so the page works from disk with no network.
import type { RunReport, SearchReport } from '../../results/reportTypes.js';
import { candidateTable } from './candidateTable.js';
import { readReportData } from './data.js';
import { el } from './dom.js';
import { searchCharts } from './searchCharts.js';

function summaryLine(r: RunReport): string {
  const done = r.candidates.filter((c) => c.status === 'done').length;
  const failed = r.candidates.filter((c) => c.status === 'failed').length;
  const settings = [r.strategy, r.space, r.evaluator, r.targets.join(', ')].filter((s) => s !== null && s !== '');
  return `${r.kind} run ${r.id} (${r.status}): ${done} done, ${failed} failed of ${r.candidates.length}; ${settings.join(' · ')}`;
}

function runsSection(runs: readonly RunReport[]): HTMLElement {
  const section = el('section', '', { id: 'runs' });
  const list = el('ul');
  for (const r of runs) {
    const li = el('li', summaryLine(r), { 'data-run': r.id });
    if (r.error !== null) li.append(el('div', `error: ${r.error}`, { class: 'error' }));
    list.append(li);
  }
  section.append(list);
  return section;
}

function searchSection(runs: readonly SearchReport[]): HTMLElement {
  const section = el('section', '', { id: 'search' });
  const charts = el('div', '', { class: 'charts' });
  charts.append(...searchCharts(runs));
  section.append(el('h2', runs.length > 1 ? `Searches (${runs.length} overlaid)` : 'Search'), charts, candidateTable(runs));
  return section;
}

function draw(): void {
  const root = document.getElementById('report') ?? document.body;
  const data = readReportData(document);
  const searches = data.runs.filter((r): r is SearchReport => r.kind === 'search');
  root.append(runsSection(data.runs));
  if (searches.length > 0) root.append(searchSection(searches));
  document.body.setAttribute('data-ready', 'true');
}

try {
  draw();
} catch (e) {
  // A page that cannot draw says why, on the page and on the console (where tests look).
  const message = e instanceof Error ? e.message : String(e);
  document.body.append(el('p', `nas report: ${message}`, { class: 'error' }));
  console.error(`nas report: ${message}`);
}
