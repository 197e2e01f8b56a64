// The sortable table of every candidate of the search runs: metrics, block string and a copyable `run:RUN#SEQ`
// (what `nas train-final --arch` and the other commands take). A click on a header sorts by it; again, reversed.
import type { ReportCandidate, SearchReport } from '../../results/reportTypes.js';
import { copyText, el, fmt } from './dom.js';

type Row = ReportCandidate & { readonly run: string };

interface Column {
  readonly title: string;
  readonly value: (r: Row) => number | string | null;
  readonly text: (r: Row) => string;
}

const num = (title: string, get: (r: Row) => number | null, digits: number): Column => ({
  title,
  value: get,
  text: (r) => fmt(get(r), digits),
});

const COLUMNS: readonly Column[] = [
  { title: 'run', value: (r) => r.run, text: (r) => r.run },
  num('#', (r) => r.seq, 0),
  { title: 'status', value: (r) => r.status, text: (r) => r.status },
  num('reward', (r) => r.reward, 4),
  num('accuracy', (r) => r.accuracy, 4),
  num('latency ms', (r) => r.latencyMs, 3),
  num('MAdds', (r) => r.madds, 0),
  num('params', (r) => r.params, 0),
  num('seconds', (r) => r.seconds, 2),
  { title: 'front', value: (r) => r.front.join(' '), text: (r) => r.front.join(' ') },
  { title: 'failure', value: (r) => r.failure, text: (r) => r.failure ?? '' },
];

/** Ascending, with blanks last whichever the direction. */
function compare(a: number | string | null, b: number | string | null, dir: number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))) * dir;
}

function rowElement(r: Row): HTMLTableRowElement {
  const tr = el('tr', '', { 'data-status': r.status });
  for (const c of COLUMNS) tr.append(el('td', c.text(r)));
  const ref = `run:${r.run}#${r.seq}`;
  const code = el('code', ref);
  const copy = el('button', 'copy', { type: 'button', title: `copy ${ref}` });
  copy.addEventListener('click', () => copyText(ref, code));
  const refCell = el('td');
  refCell.append(code, ' ', copy);
  tr.append(refCell, el('td', '', { class: 'arch' }));
  tr.lastElementChild?.append(el('code', r.arch));
  return tr;
}

export function candidateTable(runs: readonly SearchReport[]): HTMLElement {
  const rows = runs.flatMap((r) => r.candidates.map((c) => ({ ...c, run: r.id })));
  const table = el('table', '', { class: 'candidates', 'data-table': 'candidates' });
  const head = el('tr');
  const body = el('tbody');
  let sorted = { column: 1, dir: 1 };
  const draw = (): void => {
    const col = COLUMNS[sorted.column] ?? COLUMNS[0];
    const order = [...rows].sort((a, b) => (col === undefined ? 0 : compare(col.value(a), col.value(b), sorted.dir)));
    body.replaceChildren(...order.map(rowElement));
  };
  COLUMNS.forEach((c, i) => {
    const th = el('th', c.title, { title: `sort by ${c.title}` });
    th.addEventListener('click', () => {
      sorted = { column: i, dir: sorted.column === i ? -sorted.dir : 1 };
      draw();
    });
    head.append(th);
  });
  head.append(el('th', 'reference'), el('th', 'architecture (block strings)'));
  table.append(el('thead'), body);
  table.tHead?.append(head);
  draw();
  const section = el('section', '', { id: 'candidates' });
  section.append(el('h2', `Candidates (${rows.length})`), el('p', 'Click a header to sort; click again to reverse.', { class: 'note' }), table);
  return section;
}
