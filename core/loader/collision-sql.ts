import type { TableDefinition } from '../model/table-definition.js';

/**
 * For warehouses that merge with `ROW_NUMBER()` + `NOT EXISTS` (Redshift, the SQL Server family),
 * run before the insert: per `source_key`, the staged rows the insert will add whose collision key
 * (`(session, nr)`) a row of other content already has — in the target, or among the rows it adds
 * before them (by `keepEarliest`, then the rest of the key). The same count PostgreSQL's merge
 * returns. `quote` is the dialect's identifier quoting.
 */
export function collisionCountSql(table: TableDefinition, target: string, staging: string, quote: (name: string) => string): string {
  const keys = table.key.map(quote);
  const near = (table.collisionKey ?? []).map(quote);
  const rest = keys.filter((k) => !near.includes(k));
  const earliest = table.keepEarliest === undefined ? [] : [quote(table.keepEarliest)];
  const source = quote('source_key');
  const columns = [...new Set([source, ...keys, ...earliest])];
  return `SELECT n.${source} AS source_key, COUNT(*) AS collisions
FROM (
  SELECT ${columns.map((c) => `s.${c}`).join(', ')},
    ROW_NUMBER() OVER (PARTITION BY ${near.map((k) => `s.${k}`).join(', ')} ORDER BY ${[...earliest, ...rest].map((k) => `s.${k}`).join(', ')}) AS ferry_order
  FROM (
    SELECT ${columns.join(', ')}, ROW_NUMBER() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${(earliest.length > 0 ? earliest : keys).join(', ')}) AS ferry_rank
    FROM ${staging}
  ) s
  WHERE s.ferry_rank = 1
    AND NOT EXISTS (SELECT 1 FROM ${target} t WHERE ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')})
) n
LEFT JOIN (
  SELECT DISTINCT ${near.map((k) => `t.${k}`).join(', ')} FROM ${target} t INNER JOIN ${staging} g ON ${near.map((k) => `t.${k} = g.${k}`).join(' AND ')}
) p ON ${near.map((k) => `p.${k} = n.${k}`).join(' AND ')}
WHERE n.ferry_order > 1 OR p.${near[0]} IS NOT NULL
GROUP BY n.${source}`;
}

/** Collision counts from the rows `collisionCountSql` returns, leaving out zeros. */
export function collisionsFrom(rows: readonly { source_key: unknown; collisions: unknown }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) if (Number(r.collisions) > 0) out.set(String(r.source_key), Number(r.collisions));
  return out;
}
