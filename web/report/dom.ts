// Small DOM helpers for the report page.

/** An element with its text and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text = '',
  attrs: Readonly<Record<string, string>> = {},
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== '') e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** A titled box holding a chart (data-chart names it for tests and links). */
export function figure(name: string, title: string, chart: Element, note = ''): HTMLElement {
  const f = el('div', '', { class: 'chart', 'data-chart': name, id: `chart-${name}` });
  f.append(el('h3', title), chart);
  if (note !== '') f.append(el('p', note, { class: 'note' }));
  return f;
}

/** A number as a table shows it: fixed digits, thousands grouped for counts, blank for none. */
export function fmt(v: number | null, digits: number): string {
  if (v === null) return '';
  return digits === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

/** Copies text to the clipboard; where the page may not (some file:// pages), selects it for Ctrl+C instead. */
export function copyText(text: string, node: Node): void {
  const select = (): void => {
    const range = document.createRange();
    range.selectNodeContents(node);
    window.getSelection()?.removeAllRanges();
    window.getSelection()?.addRange(range);
  };
  if (navigator.clipboard === undefined) return select();
  navigator.clipboard.writeText(text).catch(select);
}

/** A plain table (data-table names it for tests). */
export function simpleTable(name: string, header: readonly string[], rows: readonly (readonly string[])[]): HTMLTableElement {
  const table = el('table', '', { class: 'candidates', 'data-table': name });
  const head = el('tr');
  head.append(...header.map((h) => el('th', h)));
  const body = el('tbody');
  body.append(...rows.map((r) => {
    const tr = el('tr');
    tr.append(...r.map((c) => el('td', c)));
    return tr;
  }));
  table.append(el('thead'), body);
  table.tHead?.append(head);
  return table;
}
