import type { ColumnType, TableDefinition } from '../../model/table-definition.js';
import type { CopyTarget, Warehouse, WarehouseTransaction } from '../../ports/warehouse.js';
import type { Statement } from '../client-copy.js';
import { backfillColumns, keysetAfter, type BackfillSql } from '../key-migration.js';
import type { CsvRecord } from '../csv-rows.js';
import {
  chunked,
  errorChain,
  toDays,
  toFailures,
  toQuarantineRows,
  toTotals,
  type LatestFailure,
  type LoadedFile,
  type LoadFailure,
  type ManifestDay,
  type ManifestTotal,
  type QuarantineEntry,
  type QuarantineRow,
  type Queryable,
  addCollisionsSql,
} from '../load-dialect.js';
import { collisionCountSql, collisionsFrom } from '../collision-sql.js';
import { bracketIdent } from '../sql-text.js';

/** SQL Server error number of "Invalid object name" (a missing table). */
const invalidObjectName = 208;

/**
 * SQL Server error numbers that mean the content was refused: conversions and overflows (241,
 * 242, 245, 248, 8114, 8115, 220, 232), truncation (8152, 2628), NULL in a required column (515),
 * a constraint (547), and the bulk load's own data errors (4863–4866, 4832). Deadlocks, lock
 * timeouts, throttling and lost connections have other numbers (or none) and stay retryable.
 */
const refusedNumbers = new Set([220, 232, 241, 242, 245, 248, 515, 547, 2628, 4832, 4863, 4864, 4865, 4866, 8114, 8115, 8152]);

/** The SQL Server error number on `err` or an error it wraps (tedious sets `number`). */
export function errorNumberOf(err: unknown): number | undefined {
  for (const e of errorChain(err)) {
    const n = (e as { number?: unknown }).number;
    if (typeof n === 'number') return n;
  }
  return undefined;
}

/** `@p1, @p2, …` — the adapter binds positional parameter i as `@p{i+1}`. */
export function placeholders(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => `@p${offset + i + 1}`);
}

/**
 * What the SQL Server family (Azure SQL Database, Synapse dedicated pools) shares: bracket
 * quoting, `@pN` parameters, the manifest and failure tables, the `ROW_NUMBER()` de-duplication
 * and the status queries. Subclasses choose types, staging, locking and the bulk path.
 */
export abstract class TsqlDialectBase {
  protected readonly schemaName: string;
  protected readonly schema: string;
  protected readonly manifest: string;
  protected readonly failures: string;
  protected readonly quarantined: string;
  protected readonly collisions: string;

  constructor(schemaName: string) {
    this.schemaName = schemaName;
    this.schema = bracketIdent(schemaName, 'FERRY_WAREHOUSE_SCHEMA');
    this.manifest = `${this.schema}.${bracketIdent('load_manifest')}`;
    this.failures = `${this.schema}.${bracketIdent('load_failures')}`;
    this.quarantined = `${this.schema}.${bracketIdent('load_quarantine')}`;
    this.collisions = `${this.schema}.${bracketIdent('load_collisions')}`;
  }

  /** The Unicode text type of this warehouse (`NVARCHAR`; Fabric has only UTF-8 `VARCHAR`). */
  protected textType(length: number | 'MAX'): string {
    return `NVARCHAR(${length})`;
  }

  /** SQL type of a `text` column: the one type whose size the warehouses treat differently. */
  protected abstract textColumnType(isKey: boolean, table: TableDefinition): string;

  /** SQL type of a column; key columns may need a bounded length. */
  protected columnType(type: ColumnType, isKey: boolean, table: TableDefinition): string {
    switch (type) {
      case 'text':
        return this.textColumnType(isKey, table);
      case 'json':
        return this.textType('MAX');
      case 'bigint':
        return 'BIGINT';
      case 'double':
        return 'FLOAT';
      case 'timestamp':
        return 'DATETIME2(3)';
    }
  }

  protected target(table: TableDefinition): string {
    return `${this.schema}.${bracketIdent(table.name)}`;
  }

  protected columnList(table: TableDefinition): string {
    return table.columns.map((c) => bracketIdent(c.name)).join(', ');
  }

  protected columnDefinitions(table: TableDefinition, nullable: boolean): string[] {
    return table.columns.map((c) => `  ${bracketIdent(c.name)} ${this.columnType(c.type, table.key.includes(c.name), table)} ${!nullable && c.required ? 'NOT NULL' : 'NULL'}`);
  }

  protected copyTarget(table: TableDefinition, name: string): CopyTarget {
    return {
      table: name,
      columns: table.columns.map((c) => ({ name: c.name, quoted: bracketIdent(c.name), type: c.type, required: c.required === true })),
    };
  }

  /** Creates the schema when missing (CREATE SCHEMA must be alone in its batch, hence sp_executesql). */
  protected createSchemaStatement(): string {
    return `IF SCHEMA_ID(N'${this.schemaName}') IS NULL EXEC sp_executesql N'CREATE SCHEMA ${this.schema}'`;
  }

  /** `IF OBJECT_ID(…) IS NULL CREATE TABLE …` with the dialect's table options. */
  protected createTableIfMissing(name: string, body: string[], options = ''): string {
    return `IF OBJECT_ID(N'${name}', N'U') IS NULL CREATE TABLE ${name} (\n${body.join(',\n')}\n)${options}`;
  }

  /** The manifest and failure tables' columns. */
  protected manifestColumns(): string[] {
    return [
      `  [file_key] ${this.textType(800)} NOT NULL`,
      `  [etag] ${this.textType(256)} NOT NULL`,
      `  [table_name] ${this.textType(128)} NOT NULL`,
      '  [rows_expected] BIGINT NOT NULL',
      '  [rows_loaded] BIGINT NOT NULL',
      `  [run_id] ${this.textType(256)} NOT NULL`,
      '  [loaded_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()',
    ];
  }

  protected failureColumns(): string[] {
    return [
      `  [run_id] ${this.textType(256)} NOT NULL`,
      `  [table_name] ${this.textType(128)} NOT NULL`,
      `  [code] ${this.textType(64)} NOT NULL`,
      `  [message] ${this.textType(4000)} NOT NULL`,
      `  [file_keys] ${this.textType('MAX')} NOT NULL`,
      '  [failed_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()',
    ];
  }

  protected quarantineColumns(): string[] {
    return [
      `  [file_key] ${this.textType(800)} NOT NULL`,
      `  [etag] ${this.textType(256)} NOT NULL`,
      `  [table_name] ${this.textType(128)} NOT NULL`,
      `  [code] ${this.textType(64)} NOT NULL`,
      `  [sqlstate] ${this.textType(64)} NULL`,
      `  [message] ${this.textType(4000)} NOT NULL`,
      `  [run_id] ${this.textType(256)} NOT NULL`,
      '  [quarantined_at] DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME()',
    ];
  }

  protected collisionColumns(): string[] {
    return [`  [source_key] ${this.textType(800)} NOT NULL`, '  [collisions] BIGINT NOT NULL'];
  }

  /** A text parameter as the column's type, for comparisons with it. */
  protected cast(table: TableDefinition, column: string, placeholder: string): string {
    return table.columns.find((c) => c.name === column)?.type === 'bigint' ? `CAST(${placeholder} AS BIGINT)` : placeholder;
  }

  /**
   * Reads rows lacking the backfill column in `by` order (`TOP`, after the last row read) and sets
   * it through an implicit join with a derived table of parameters (Synapse takes no ANSI join in
   * an UPDATE).
   */
  backfillSql(table: TableDefinition, by: readonly string[]): BackfillSql {
    const target = this.target(table);
    const fill = bracketIdent(table.backfill!.column);
    const order = by.map((k) => bracketIdent(k));
    const read = backfillColumns(table, by).map((c) => {
      const name = bracketIdent(c);
      switch (table.columns.find((d) => d.name === c)?.type) {
        case 'timestamp':
          return `CONVERT(VARCHAR(19), ${name}, 120) AS ${name}`;
        case 'bigint':
          return `CONVERT(VARCHAR(20), ${name}) AS ${name}`;
        case 'double':
          return `CONVERT(VARCHAR(32), ${name}, 3) AS ${name}`;
        default:
          return name;
      }
    });
    const width = by.length + 1;
    return {
      rowsPerSelect: 20_000,
      rowsPerUpdate: Math.floor(2000 / width),
      select: (after, limit): Statement => {
        const from = after === undefined ? '' : ` AND (${keysetAfter(order, (i) => this.cast(table, by[i]!, `@p${i + 1}`))})`;
        return { sql: `SELECT TOP (${limit}) ${read.join(', ')} FROM ${target} WHERE ${fill} IS NULL${from} ORDER BY ${order.join(', ')}`, params: after === undefined ? [] : [...after] };
      },
      update: (rows): Statement => {
        const selects = rows.map((_, r) => `SELECT ${[...by.map((k, i) => `${this.cast(table, k, `@p${r * width + i + 1}`)} AS k${i}`), `@p${r * width + width} AS v`].join(', ')}`);
        return {
          sql: `UPDATE ${target} SET ${fill} = u.v FROM (\n${selects.join('\nUNION ALL ')}\n) u\nWHERE ${by.map((k, i) => `${target}.${bracketIdent(k)} = u.k${i}`).join(' AND ')} AND ${target}.${fill} IS NULL`,
          params: rows.flat(),
        };
      },
    };
  }

  /** `(source_key, n)` pairs as a derived table of parameters. */
  private pairs(collisions: readonly (readonly [string, number])[]): Statement {
    const selects = collisions.map((_, i) => `SELECT @p${i * 2 + 1} AS source_key, CAST(@p${i * 2 + 2} AS BIGINT) AS n`);
    return { sql: `(\n${selects.join('\nUNION ALL ')}\n) u`, params: collisions.flat() };
  }

  async recordCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void> {
    for (const chunk of chunked([...collisions], 1000)) {
      const { sql: u, params } = this.pairs(chunk);
      for (const statement of addCollisionsSql(this.collisions, u)) await tx.query(statement, params);
    }
  }

  async collisionsOf(q: Queryable, sourceKeys: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const chunk of chunked(sourceKeys, 1000)) {
      const sql = `SELECT source_key, collisions FROM ${this.collisions} WHERE source_key IN (${placeholders(chunk.length).join(', ')})`;
      for (const row of await q.query<{ source_key: string; collisions: unknown }>(sql, chunk)) found.set(row.source_key, Number(row.collisions));
    }
    return found;
  }

  async addSourceCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void> {
    const counts = `${this.schema}.${bracketIdent('source_counts')}`;
    for (const chunk of chunked([...collisions], 1000)) {
      const { sql: u, params } = this.pairs(chunk);
      await tx.query(`UPDATE ${counts} SET collisions = COALESCE(${counts}.collisions, 0) + u.n FROM ${u} WHERE ${counts}.source_key = u.source_key`, params);
    }
  }

  /** Per `source_key`, the staged rows the insert will add that collide (`collisionCountSql`). */
  protected async countCollisions(tx: WarehouseTransaction, table: TableDefinition, staging: string): Promise<Map<string, number> | undefined> {
    if (!table.collisionKey) return undefined;
    return collisionsFrom(await tx.query(collisionCountSql(table, this.target(table), staging, (name) => bracketIdent(name))));
  }

  /** Adds each column the table lacks; new columns are nullable, none is ever dropped. */
  protected addMissingColumns(table: TableDefinition): string[] {
    const name = this.target(table);
    return table.columns.map(
      (c) => `IF COL_LENGTH(N'${name}', N'${c.name}') IS NULL ALTER TABLE ${name} ADD ${bracketIdent(c.name)} ${this.columnType(c.type, table.key.includes(c.name), table)} NULL`,
    );
  }

  async loadedKeys(q: Queryable, keys: readonly string[]): Promise<Set<string>> {
    const loaded = new Set<string>();
    // SQL Server takes at most 2,100 parameters per request.
    for (const chunk of chunked(keys, 1000)) {
      const sql = `SELECT file_key FROM ${this.manifest} WHERE file_key IN (${placeholders(chunk.length).join(', ')})`;
      for (const row of await q.query<{ file_key: string }>(sql, chunk)) loaded.add(row.file_key);
    }
    return loaded;
  }

  /**
   * Multi-row insert as `SELECT … UNION ALL SELECT …`: Synapse has no multi-row VALUES, and one
   * form for the family keeps one code path.
   */
  protected insertRows(into: string, columns: string, rows: readonly (readonly unknown[])[]): Statement {
    const width = rows[0]?.length ?? 0;
    const selects = rows.map((_, r) => `SELECT ${placeholders(width, r * width).join(', ')}`);
    return { sql: `INSERT INTO ${into} (${columns})\n${selects.join('\nUNION ALL ')}`, params: rows.flat() };
  }

  /** Records as parameterised inserts into `into` (parse summaries on warehouses without a client bulk path). */
  protected insertRecords(into: string, table: TableDefinition): (records: CsvRecord[]) => Statement {
    return (records) => this.insertRows(into, this.columnList(table), records);
  }

  /** Keeps one row per key (the earliest `keepEarliest`) from `staging` and inserts those the target lacks. */
  protected insertNewRows(table: TableDefinition, staging: string): string {
    const cols = this.columnList(table);
    const keys = table.key.map((k) => bracketIdent(k));
    const order = table.keepEarliest === undefined ? keys.join(', ') : bracketIdent(table.keepEarliest);
    return `INSERT INTO ${this.target(table)} (${cols})
SELECT ${cols} FROM (
  SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${order}) AS ferry_rank
  FROM ${staging}
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM ${this.target(table)} t WHERE ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')})`;
  }

  async recordManifest(tx: WarehouseTransaction, table: string, files: readonly LoadedFile[], runId: string): Promise<void> {
    const rows = files.map((f) => [f.key, f.etag, table, f.expectedRows, f.rowsLoaded, runId]);
    // 6 parameters a row: 300 rows stay under the 2,100-parameter limit.
    for (const chunk of chunked(rows, 300)) {
      const { sql, params } = this.insertRows(this.manifest, 'file_key, etag, table_name, rows_expected, rows_loaded, run_id', chunk);
      await tx.query(sql, params);
    }
  }

  async recordFailure(q: Queryable, f: LoadFailure): Promise<void> {
    await q.query(`INSERT INTO ${this.failures} (run_id, table_name, code, message, file_keys) VALUES (@p1, @p2, @p3, @p4, @p5)`, [
      f.runId,
      f.table,
      f.code,
      f.message.slice(0, 4000),
      JSON.stringify(f.keys),
    ]);
  }

  refusesData(err: unknown): boolean {
    const n = errorNumberOf(err);
    return n !== undefined && refusedNumbers.has(n);
  }

  errorCode(err: unknown): string | undefined {
    const n = errorNumberOf(err);
    return n === undefined ? undefined : String(n);
  }

  async quarantine(warehouse: Warehouse, entries: readonly QuarantineEntry[]): Promise<void> {
    await warehouse.transaction(async (tx) => {
      await this.releaseQuarantine(tx, entries.map((e) => e.key));
      const rows = entries.map((e) => [e.key, e.etag, e.table, e.code, e.sqlstate, e.message.slice(0, 4000), e.runId]);
      // 7 parameters a row: 250 rows stay under the 2,100-parameter limit.
      for (const chunk of chunked(rows, 250)) {
        const { sql, params } = this.insertRows(this.quarantined, 'file_key, etag, table_name, code, sqlstate, message, run_id', chunk);
        await tx.query(sql, params);
      }
    });
  }

  async quarantinedEtags(q: Queryable, keys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const chunk of chunked(keys, 1000)) {
      const sql = `SELECT file_key, etag FROM ${this.quarantined} WHERE file_key IN (${placeholders(chunk.length).join(', ')})`;
      for (const row of await q.query<{ file_key: string; etag: string }>(sql, chunk)) found.set(row.file_key, row.etag);
    }
    return found;
  }

  async releaseQuarantine(q: Queryable, keys: readonly string[]): Promise<void> {
    for (const chunk of chunked(keys, 1000)) await q.query(`DELETE FROM ${this.quarantined} WHERE file_key IN (${placeholders(chunk.length).join(', ')})`, chunk);
  }

  async quarantinedFiles(q: Queryable, table?: string): Promise<QuarantineRow[]> {
    const where = table === undefined ? '' : ' WHERE table_name = @p1';
    return toQuarantineRows(
      await q.query(
        `SELECT table_name, file_key, etag, code, sqlstate, message, run_id, CONVERT(VARCHAR(19), quarantined_at, 126) + 'Z' AS quarantined_at
FROM ${this.quarantined}${where} ORDER BY quarantined_at, file_key`,
        table === undefined ? [] : [table],
      ),
    );
  }

  isMissingTable(err: unknown): boolean {
    return (err as { number?: unknown } | null)?.number === invalidObjectName;
  }

  async manifestTotals(q: Queryable): Promise<ManifestTotal[]> {
    return toTotals(
      await q.query(`SELECT table_name, COUNT_BIG(*) AS files, SUM(rows_loaded) AS [rows], CONVERT(VARCHAR(19), MAX(loaded_at), 126) + 'Z' AS last_loaded_at
FROM ${this.manifest} GROUP BY table_name ORDER BY table_name`),
    );
  }

  /** The date partition sits at a fixed place: `parsed/<table>/YYYY-MM-DD/…` or `summaries/YYYY-MM-DD/…`. */
  async manifestByDay(q: Queryable, days: number): Promise<ManifestDay[]> {
    const date = `SUBSTRING(file_key, CASE WHEN table_name = N'source_counts' THEN 11 ELSE LEN(table_name) + 9 END, 10)`;
    return toDays(
      await q.query(
        `SELECT table_name, [date], files, [rows] FROM (
  SELECT table_name, [date], files, [rows], ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY [date] DESC) AS n
  FROM (SELECT table_name, ${date} AS [date], COUNT_BIG(*) AS files, SUM(rows_loaded) AS [rows] FROM ${this.manifest} GROUP BY table_name, ${date}) g
) d WHERE n <= @p1 ORDER BY table_name, [date] DESC`,
        [days],
      ),
    );
  }

  async latestFailures(q: Queryable): Promise<LatestFailure[]> {
    return toFailures(
      await q.query(`SELECT table_name, run_id, code, message, file_keys, CONVERT(VARCHAR(19), failed_at, 126) + 'Z' AS failed_at FROM (
  SELECT table_name, run_id, code, message, file_keys, failed_at, ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY failed_at DESC) AS n
  FROM ${this.failures}
) f WHERE n = 1 ORDER BY table_name`),
    );
  }
}
