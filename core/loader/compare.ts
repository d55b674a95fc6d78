import { ConfigError } from '../errors.js';
import type { TableDefinition } from '../model/table-definition.js';
import type { Warehouse } from '../ports/warehouse.js';
import type { WarehouseKind } from './load-dialect.js';
import { quoteIdent } from './sql-text.js';

/** One side of a comparison: a warehouse, its kind and the schema Ferry loads into. */
export interface CompareSide {
  warehouse: Pick<Warehouse, 'query'>;
  kind: WarehouseKind;
  schema: string;
}

/** Row count and content checksum of one table's day, on each side. */
export interface DayComparison {
  table: string;
  day: string;
  rows: [number, number];
  checksums: [string | null, string | null];
  same: boolean;
}

/** The report of `ferry compare`: every (table, day) either side has, and whether they agree. */
export interface CompareReport {
  days: DayComparison[];
  /** Tables that exist on neither side are left out; these exist on one only. */
  missingTables: { table: string; side: 'a' | 'b' }[];
  same: boolean;
}

// Columns that hold a cloud's own version tag of an input (S3 and Azure ETags differ for the same
// bytes); everything else must be equal for two deployments to agree.
const versionColumns = new Set(['source_etag', 'summary_key']);

/** The column a table's rows are bucketed by day on: the de-duplication time, else its first timestamp, else `date`. */
function dayColumn(table: TableDefinition): { name: string; isText: boolean } | undefined {
  const time = table.keepEarliest ?? table.columns.find((c) => c.type === 'timestamp')?.name;
  if (time) return { name: time, isText: false };
  return table.columns.some((c) => c.name === 'date') ? { name: 'date', isText: true } : undefined;
}

/**
 * Per-day count and an order-independent checksum of every row's content (md5 over the sorted
 * md5s of each row as a JSON array, so NULL and '' differ and column order is fixed).
 */
export function daySummarySql(schema: string, table: TableDefinition): string {
  const columns = table.columns.filter((c) => !versionColumns.has(c.name)).map((c) => quoteIdent(c.name));
  const day = dayColumn(table);
  const dayExpr = !day ? `'all'` : day.isText ? quoteIdent(day.name) : `to_char(${quoteIdent(day.name)}, 'YYYY-MM-DD')`;
  const row = `md5(json_build_array(${columns.join(', ')})::text)`;
  return `SELECT ${dayExpr} AS day, count(*)::bigint AS rows, md5(string_agg(${row}, '' ORDER BY ${row})) AS checksum
FROM ${quoteIdent(schema)}.${quoteIdent(table.name)}
GROUP BY 1
ORDER BY 1`;
}

async function summarise(side: CompareSide, table: TableDefinition, from?: string, to?: string): Promise<Map<string, { rows: number; checksum: string }> | undefined> {
  const exists = await side.warehouse.query<{ n: number | string }>(
    'SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
    [side.schema, table.name],
  );
  if (Number(exists[0]?.n ?? 0) === 0) return undefined;
  const rows = await side.warehouse.query<{ day: string; rows: number | string; checksum: string }>(daySummarySql(side.schema, table));
  const out = new Map<string, { rows: number; checksum: string }>();
  for (const r of rows) {
    if ((from && r.day < from) || (to && r.day > to)) continue;
    out.set(r.day, { rows: Number(r.rows), checksum: r.checksum });
  }
  return out;
}

/**
 * Compares two deployments' warehouses table by table and day by day (e.g. the AWS and the Azure
 * side of a move), so a team can switch over when every day agrees. PostgreSQL-family warehouses
 * (PostgreSQL, the embedded PGlite) only: the checksum is computed in the database.
 */
export async function compareWarehouses(a: CompareSide, b: CompareSide, tables: readonly TableDefinition[], range: { from?: string; to?: string } = {}): Promise<CompareReport> {
  for (const side of [a, b]) {
    if (side.kind !== 'postgres') throw new ConfigError([{ key: 'FERRY_WAREHOUSE', reason: `ferry compare reads PostgreSQL warehouses (and the embedded one); ${side.kind} is not supported yet` }]);
  }
  const report: CompareReport = { days: [], missingTables: [], same: true };
  for (const table of tables) {
    const [left, right] = await Promise.all([summarise(a, table, range.from, range.to), summarise(b, table, range.from, range.to)]);
    if (!left && !right) continue;
    if (!left || !right) {
      report.missingTables.push({ table: table.name, side: left ? 'b' : 'a' });
      report.same = false;
    }
    const days = [...new Set([...(left?.keys() ?? []), ...(right?.keys() ?? [])])].sort();
    for (const day of days) {
      const l = left?.get(day);
      const r = right?.get(day);
      const same = l !== undefined && r !== undefined && l.rows === r.rows && l.checksum === r.checksum;
      report.days.push({ table: table.name, day, rows: [l?.rows ?? 0, r?.rows ?? 0], checksums: [l?.checksum ?? null, r?.checksum ?? null], same });
      if (!same) report.same = false;
    }
  }
  return report;
}
