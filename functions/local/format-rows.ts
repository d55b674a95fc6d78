import type { Row } from '../../core/ports/warehouse.js';

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Renders rows as a psql-style aligned table followed by `(N rows)`. */
export function formatRows(rows: readonly Row[]): string {
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => ` ${v.padEnd(widths[i]!)} `).join('|').trimEnd();
  const out: string[] = [];
  if (columns.length > 0) {
    out.push(line(columns));
    out.push(widths.map((w) => '-'.repeat(w + 2)).join('+'));
    for (const r of cells) out.push(line(r));
  }
  out.push(`(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`);
  return `${out.join('\n')}\n`;
}
