// The page of `nas report`: reads the embedded data and draws each kind of run it holds. Bundled with Observable
// Plot into one script (web/build.mjs) that `nas report` inlines, so the page works from disk with no network.
import type { NetadaptReport, RunReport, SearchReport, TrainReport } from '../../results/reportTypes.js';
import { candidateTable } from './candidateTable.js';
import { readReportData } from './data.js';
import { el } from './dom.js';
import { netadaptCharts } from './netadaptCharts.js';
import { searchCharts } from './searchCharts.js';
import { trainCharts } from './trainCharts.js';

function searchLine(r: SearchReport): string {
  const done = r.candidates.filter((c) => c.status === 'done').length;
  const failed = r.candidates.filter((c) => c.status === 'failed').length;
  const settings = [r.strategy, r.space, r.evaluator, r.targets.join(', ')].filter((s) => s !== null && s !== '');
  return `search run ${r.id} (${r.status}): ${done} done, ${failed} failed of ${r.candidates.length}; ${settings.join(' · ')}`;
}

function summaryLine(r: RunReport): string {
  if (r.kind === 'search') return searchLine(r);
  if (r.kind === 'train') return `train run ${r.id} (${r.status}): ${r.epochs.length} epochs of ${r.arch ?? 'an architecture'}`;
  const target = r.targetMs === null ? '' : `, target ${r.targetMs.toFixed(3)} ms`;
  return `netadapt run ${r.id} (${r.status}): ${r.steps.length} steps${target}`;
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

/** A section of the runs of one kind: its charts side by side, then what follows them. */
function kindSection(id: string, title: string, charts: readonly HTMLElement[], ...after: HTMLElement[]): HTMLElement {
  const section = el('section', '', { id });
  const box = el('div', '', { class: 'charts' });
  box.append(...charts);
  section.append(el('h2', title), box, ...after);
  return section;
}

const titled = (kind: string, n: number): string => (n > 1 ? `${kind} (${n} overlaid)` : kind);

function draw(): void {
  const root = document.getElementById('report') ?? document.body;
  const data = readReportData(document);
  const searches = data.runs.filter((r): r is SearchReport => r.kind === 'search');
  const netadapts = data.runs.filter((r): r is NetadaptReport => r.kind === 'netadapt');
  const trains = data.runs.filter((r): r is TrainReport => r.kind === 'train');
  root.append(runsSection(data.runs));
  if (searches.length > 0) root.append(kindSection('search', titled('Search', searches.length), searchCharts(searches), candidateTable(searches)));
  if (netadapts.length > 0) root.append(kindSection('netadapt', titled('NetAdapt', netadapts.length), netadaptCharts(netadapts)));
  if (trains.length > 0) root.append(kindSection('train', titled('Training', trains.length), trainCharts(trains)));
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
