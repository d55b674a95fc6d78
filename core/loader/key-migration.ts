import type { TableDefinition } from '../model/table-definition.js';
import type { Row } from '../ports/warehouse.js';
import type { Statement } from './client-copy.js';
import { chunked, type Queryable } from './load-dialect.js';

/** How one dialect reads rows lacking the backfill column and writes the computed values. */
export interface BackfillSql {
  /**
   * Up to `limit` rows whose backfill column is NULL, ordered by `by` (columns identifying a row),
   * after the row whose `by` values are `after`; each row has `by` and the backfill's `reads`,
   * every value as text.
   */
  select(after: readonly string[] | undefined, limit: number): Statement;
  /** Sets the column on the rows identified by `by`: each entry is `by`'s values, then the value. */
  update(rows: readonly (readonly string[])[]): Statement;
  /** Rows per select, and per update statement (parameter limits). */
  rowsPerSelect: number;
  rowsPerUpdate: number;
}

/** Whether a table's key is `key`, column for column. */
export function sameKey(current: readonly string[], key: readonly string[]): boolean {
  return current.length === key.length && current.every((c, i) => c === key[i]);
}

/** The columns a backfill reads besides `by`, deduplicated, in a stable order. */
export function backfillColumns(table: TableDefinition, by: readonly string[]): string[] {
  return [...new Set([...by, ...(table.backfill?.reads ?? [])])];
}

function asText(row: Row): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v == null ? null : String(v);
  return out;
}

/**
 * Fills `table.backfill.column` for every row lacking it, computed in Ferry from the row's stored
 * columns (the same function new rows get it from, so a migrated row and a re-send of it agree),
 * walking the rows in `by` order so each chunk resumes where the last ended. Returns rows filled.
 * Runs again harmlessly: only rows still NULL are read.
 */
export async function backfill(q: Queryable, table: TableDefinition, by: readonly string[], sql: BackfillSql): Promise<number> {
  const fill = table.backfill;
  if (!fill) return 0;
  let after: string[] | undefined;
  let filled = 0;
  for (;;) {
    const select = sql.select(after, sql.rowsPerSelect);
    const rows = (await q.query(select.sql, select.params)).map(asText);
    if (rows.length === 0) return filled;
    const values = rows.map((r) => [...by.map((k) => r[k] ?? ''), fill.compute(r)]);
    for (const chunk of chunked(values, sql.rowsPerUpdate)) {
      const update = sql.update(chunk);
      await q.query(update.sql, update.params);
    }
    filled += rows.length;
    after = by.map((k) => rows.at(-1)![k] ?? '');
    if (rows.length < sql.rowsPerSelect) return filled;
  }
}

/**
 * `(c1 > v1) OR (c1 = v1 AND c2 > v2) OR …`: rows after one in `columns` order, for warehouses
 * without row-value comparison. `value(i)` renders the i-th value (a placeholder with its cast).
 */
export function keysetAfter(columns: readonly string[], value: (i: number) => string): string {
  return columns
    .map((c, i) => [...columns.slice(0, i).map((p, j) => `${p} = ${value(j)}`), `${c} > ${value(i)}`].join(' AND '))
    .map((term) => `(${term})`)
    .join(' OR ');
}
