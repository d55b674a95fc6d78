import type { ColumnType, TableDefinition } from '../../model/table-definition.js';
import type { CopyTarget, Warehouse, WarehouseTransaction } from '../../ports/warehouse.js';
import {
  sqlstateOf,
  tableLocked,
  toDays,
  toFailures,
  toQuarantineRows,
  toTotals,
  type BatchCopied,
  type BatchInput,
  type DueFile,
  type LatestFailure,
  type LoadDialect,
  type LoadedFile,
  type LoadFailure,
  type ManifestDay,
  type ManifestTotal,
  type QuarantineEntry,
  type QuarantineRow,
  type Queryable,
} from '../load-dialect.js';
import { copyBatchFromClient, copyRecordsFromClient, readBatch, type Statement } from '../client-copy.js';
import { CollisionKeys } from '../collision-keys.js';
import { CsvColumns } from '../csv-columns.js';
import { backfill, backfillColumns, sameKey, type BackfillSql } from '../key-migration.js';
import { quoteIdent, stringLiteral } from '../sql-text.js';
import { commentsToWrite, tableComments, type StoredComment, type TableComment } from '../../model/table-docs.js';

const pgTypes: Record<ColumnType, string> = { text: 'text', bigint: 'bigint', double: 'double precision', timestamp: 'timestamp', json: 'jsonb' };

/** SQLSTATE of a duplicate key: the target already holds a row of this batch. */
const uniqueViolation = '23505';
/**
 * Rows of a batch of a table with a collision key that go straight into the target together:
 * their collision keys are held in memory for the check after the COPY (a few tens of bytes a row).
 */
const defaultDirectCopyMaxRows = 250_000;

/** The type of `table`'s column `name`; undefined for a column it does not have. */
function columnType(table: TableDefinition, name: string): ColumnType | undefined {
  return table.columns.find((c) => c.name === name)?.type;
}

/** `files` in order, cut into runs of at most `maxRows` rows (a larger file is a run of its own). */
export function runsOf(files: readonly DueFile[], maxRows: number): DueFile[][] {
  const runs: DueFile[][] = [];
  let rows = Infinity;
  for (const file of files) {
    if (rows + file.expectedRows > maxRows) {
      runs.push([]);
      rows = 0;
    }
    runs.at(-1)!.push(file);
    rows += file.expectedRows;
  }
  return runs;
}

/** SQLSTATE of a missing table. */
const undefinedTable = '42P01';

/**
 * The comments stored on the tables of schema `$1` (PostgreSQL and Redshift catalogs), `column_name`
 * '' for a table's own, so `ensureSchema` writes only those missing or changed.
 */
export const storedCommentsSql = `SELECT c.relname AS table_name, COALESCE(a.attname, '') AS column_name, d.description
FROM pg_description d
INNER JOIN pg_class c ON c.oid = d.objoid
INNER JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
WHERE n.nspname = $1 AND c.relkind = 'r'`;

/** `COMMENT ON TABLE|COLUMN … IS '…'` for one comment in the quoted schema. */
export function commentOn(schema: string, comment: TableComment): string {
  const table = `${schema}.${quoteIdent(comment.table)}`;
  const target = comment.column === undefined ? `TABLE ${table}` : `COLUMN ${table}.${quoteIdent(comment.column)}`;
  return `COMMENT ON ${target} IS ${stringLiteral(comment.text)}`;
}

/**
 * Whether a SQLSTATE says the content was refused: class 22 (data exception: bad JSON, NUL,
 * malformed number or time, short CSV row), class 23 (integrity: NULL in a required column; the
 * duplicate key of the de-duplication path is handled before it gets here), 54000 (a value too
 * large for its index). Connection (08), transaction rollback (40), operator intervention (57)
 * and resource (53) classes are transient.
 */
export function refusedSqlstate(sqlstate: string | undefined): boolean {
  if (sqlstate === undefined) return false;
  return sqlstate.startsWith('22') || (sqlstate.startsWith('23') && sqlstate !== uniqueViolation) || sqlstate === '54000';
}

/**
 * PostgreSQL (and embedded PGlite): client-streamed `COPY … FROM STDIN`, a transaction-scoped
 * advisory lock per table, and a primary key on every table. Pure SQL builders plus the batch
 * strategy; values always travel as parameters.
 */
export class PostgresDialect implements LoadDialect {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  readonly manifest: string;
  readonly failures: string;
  readonly quarantined: string;
  readonly collisions: string;
  private readonly schemaName: string;

  private readonly directCopyMaxRows: number;

  /** `directCopyMaxRows`: rows of a table with a collision key copied straight in together (`loadCounting`). */
  constructor(schemaName: string, options: { directCopyMaxRows?: number } = {}) {
    this.directCopyMaxRows = options.directCopyMaxRows ?? defaultDirectCopyMaxRows;
    this.schemaName = schemaName;
    this.schema = quoteIdent(schemaName, 'FERRY_WAREHOUSE_SCHEMA');
    this.manifest = `${this.schema}.${quoteIdent('load_manifest')}`;
    this.failures = `${this.schema}.${quoteIdent('load_failures')}`;
    this.quarantined = `${this.schema}.${quoteIdent('load_quarantine')}`;
    this.collisions = `${this.schema}.${quoteIdent('load_collisions')}`;
  }

  /** The target table's qualified name. */
  target(table: TableDefinition): string {
    return `${this.schema}.${quoteIdent(table.name)}`;
  }

  /** The transaction-scoped staging table's name. */
  staging(table: TableDefinition): string {
    return quoteIdent(`ferry_staging_${table.name}`);
  }

  /** Quoted column list in table order. */
  columns(table: TableDefinition): string[] {
    return table.columns.map((c) => quoteIdent(c.name));
  }

  private copyTarget(table: TableDefinition, name: string): CopyTarget {
    return { table: name, columns: table.columns.map((c) => ({ name: c.name, quoted: quoteIdent(c.name), type: c.type, required: c.required === true })) };
  }

  /** Blocking lock serializing schema changes between concurrent runs on this schema. */
  ddlLock(): string {
    return `SELECT pg_advisory_xact_lock(hashtext('ferry.ddl.${this.schemaName}'))`;
  }

  /** Idempotent DDL for the schema, the manifest and `tables`; new columns are added, none dropped. */
  createSchema(tables: readonly TableDefinition[]): string[] {
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS ${this.schema}`,
      `CREATE TABLE IF NOT EXISTS ${this.manifest} (
  file_key text PRIMARY KEY,
  etag text NOT NULL,
  table_name text NOT NULL,
  rows_expected bigint NOT NULL,
  rows_loaded bigint NOT NULL,
  run_id text NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
)`,
      `CREATE TABLE IF NOT EXISTS ${this.failures} (
  run_id text NOT NULL,
  table_name text NOT NULL,
  code text NOT NULL,
  message text NOT NULL,
  file_keys text[] NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
)`,
      `CREATE TABLE IF NOT EXISTS ${this.quarantined} (
  file_key text PRIMARY KEY,
  etag text NOT NULL,
  table_name text NOT NULL,
  code text NOT NULL,
  sqlstate text,
  message text NOT NULL,
  run_id text NOT NULL,
  quarantined_at timestamptz NOT NULL DEFAULT now()
)`,
      `CREATE TABLE IF NOT EXISTS ${this.collisions} (
  source_key text PRIMARY KEY,
  collisions bigint NOT NULL
)`,
    ];
    for (const table of tables) {
      const columns = table.columns.map((c) => `  ${quoteIdent(c.name)} ${pgTypes[c.type]}${c.required ? ' NOT NULL' : ''}`);
      const key = table.key.map((k) => quoteIdent(k)).join(', ');
      statements.push(`CREATE TABLE IF NOT EXISTS ${this.target(table)} (\n${columns.join(',\n')},\n  PRIMARY KEY (${key})\n)`);
      for (const c of table.columns) {
        statements.push(`ALTER TABLE ${this.target(table)} ADD COLUMN IF NOT EXISTS ${quoteIdent(c.name)} ${pgTypes[c.type]}`);
      }
      statements.push(...this.timeIndexes(table));
    }
    return statements;
  }

  /** A B-tree per time column, BRIN where rows arrive in the column's order (small, cheap to keep). */
  timeIndexes(table: TableDefinition): string[] {
    return (table.timeIndexes ?? []).map(({ column, arrivalOrder }) => {
      const name = quoteIdent(`${table.name}_${column}_idx`);
      return `CREATE INDEX IF NOT EXISTS ${name} ON ${this.target(table)}${arrivalOrder ? ' USING brin' : ''} (${quoteIdent(column)})`;
    });
  }

  async ensureSchema(warehouse: Warehouse, tables: readonly TableDefinition[]): Promise<void> {
    await warehouse.transaction(async (tx) => {
      await tx.query(this.ddlLock());
      for (const statement of this.createSchema(tables)) await tx.query(statement);
      for (const table of tables) await this.migrateKey(tx, table);
      const stored = await tx.query<StoredComment>(storedCommentsSql, [this.schemaName]);
      for (const comment of commentsToWrite(tableComments(tables), stored)) await tx.query(commentOn(this.schema, comment));
    });
  }

  /** The table's primary key columns in order, with the constraint's name: `$1` the qualified table. */
  primaryKeySql(): string {
    return `SELECT a.attname AS column_name, c.conname AS constraint_name
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.conrelid = $1::regclass AND c.contype = 'p'
ORDER BY k.n`;
  }

  /**
   * Moves a table created with an older key to `table.key`, in the schema transaction: fills the
   * backfill column for existing rows, makes the key columns NOT NULL, swaps the primary key. A
   * table already on its key costs one catalog query.
   */
  private async migrateKey(tx: WarehouseTransaction, table: TableDefinition): Promise<void> {
    const current = await tx.query<{ column_name: string; constraint_name: string }>(this.primaryKeySql(), [this.target(table)]);
    const columns = current.map((r) => r.column_name);
    if (sameKey(columns, table.key)) return;
    if (table.backfill && columns.length > 0) await backfill(tx, table, columns, this.backfillSql(table, columns));
    for (const statement of this.swapKey(table, current[0]?.constraint_name)) await tx.query(statement);
  }

  /** Key columns NOT NULL, then the old primary key (if any) replaced by `table.key`. */
  swapKey(table: TableDefinition, constraint: string | undefined): string[] {
    const target = this.target(table);
    const drop = constraint === undefined ? '' : `DROP CONSTRAINT ${quoteIdent(constraint)}, `;
    return [
      ...table.key.map((k) => `ALTER TABLE ${target} ALTER COLUMN ${quoteIdent(k)} SET NOT NULL`),
      `ALTER TABLE ${target} ${drop}ADD PRIMARY KEY (${table.key.map((k) => quoteIdent(k)).join(', ')})`,
    ];
  }

  /** A column read as text the way Ferry writes it (timestamps `YYYY-MM-DD HH:MM:SS`). */
  private asText(table: TableDefinition, column: string): string {
    const name = quoteIdent(column);
    switch (columnType(table, column)) {
      case 'text':
        return name;
      case 'timestamp':
        return `to_char(${name}, 'YYYY-MM-DD HH24:MI:SS') AS ${name}`;
      default:
        return `${name}::text AS ${name}`;
    }
  }

  /** Reads rows lacking the backfill column in `by` order and sets it from parallel arrays. */
  backfillSql(table: TableDefinition, by: readonly string[]): BackfillSql {
    const fill = quoteIdent(table.backfill!.column);
    const target = this.target(table);
    const type = (k: string) => pgTypes[columnType(table, k) ?? 'text'];
    const order = by.map((k) => quoteIdent(k)).join(', ');
    const read = backfillColumns(table, by).map((c) => this.asText(table, c)).join(', ');
    return {
      rowsPerSelect: 10_000,
      rowsPerUpdate: 10_000,
      select: (after, limit): Statement => {
        const from = after === undefined ? '' : ` AND (${order}) > (${by.map((k, i) => `$${i + 1}::${type(k)}`).join(', ')})`;
        return { sql: `SELECT ${read} FROM ${target} WHERE ${fill} IS NULL${from} ORDER BY ${order} LIMIT ${limit}`, params: after === undefined ? [] : [...after] };
      },
      update: (rows): Statement => {
        const arrays = [...by.map(type), 'text'].map((t, i) => `$${i + 1}::${t}[]`);
        const names = [...by.map((_, i) => `k${i}`), 'v'];
        return {
          sql: `UPDATE ${target} t SET ${fill} = u.v FROM unnest(${arrays.join(', ')}) AS u(${names.join(', ')})
WHERE ${by.map((k, i) => `t.${quoteIdent(k)} = u.k${i}`).join(' AND ')} AND t.${fill} IS NULL`,
          params: names.map((_, i) => rows.map((r) => r[i])),
        };
      },
    };
  }

  /**
   * Non-blocking per-table load lock, released at commit/rollback; `$1` is the table name. The
   * schema is part of the key so deployments sharing a database do not block each other.
   */
  tryLoadLock(): string {
    return `SELECT pg_try_advisory_xact_lock(hashtext('ferry.load.${this.schemaName}.' || $1)) AS locked`;
  }

  async withTableLock<T>(warehouse: Warehouse, table: string, _runId: string, fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T | typeof tableLocked> {
    return warehouse.transaction(async (tx) => {
      const [lock] = await tx.query<{ locked: boolean }>(this.tryLoadLock(), [table]);
      return lock?.locked ? fn(tx) : tableLocked;
    });
  }

  /** Which of `$1::text[]` are already in the manifest. */
  loadedKeysSql(): string {
    return `SELECT file_key FROM ${this.manifest} WHERE file_key = ANY($1::text[])`;
  }

  async loadedKeys(q: Queryable, keys: readonly string[]): Promise<Set<string>> {
    return new Set((await q.query<{ file_key: string }>(this.loadedKeysSql(), [keys])).map((r) => r.file_key));
  }

  /**
   * Memory for this transaction's de-duplicating sort: the default 4 MB spills a tick's batch to
   * disk, while a limit in the hundreds of MB let the backend grow by that much on a small box
   * (the embedded server). Transaction-scoped, so it never leaks into other work on the connection.
   */
  sortMemory(): string {
    return `SET LOCAL work_mem = '16MB'`;
  }

  /** Staging table shaped like the target, without its key, dropped at commit. */
  createStaging(table: TableDefinition): string {
    return `CREATE TEMP TABLE ${this.staging(table)} (LIKE ${this.target(table)} INCLUDING DEFAULTS) ON COMMIT DROP`;
  }

  /**
   * Whether the target holds staging row `s`'s key, as one index probe per row. `OFFSET 0` keeps
   * the planner from turning NOT EXISTS into an anti-join, which it costs as cheaper but which
   * reads the whole target (sorted or hashed) on every load: a load's work grew with the table.
   */
  private keyProbe(table: TableDefinition): string {
    return `SELECT 1 FROM ${this.target(table)} t WHERE ${table.key.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ')} OFFSET 0`;
  }

  /**
   * De-duplicates staging on the table key (keeping the earliest `keepEarliest`) and inserts only
   * rows whose key the target does not hold; returns `inserted`. NOT EXISTS rather than ON
   * CONFLICT: speculative insertion costs half again as much on large batches, and the per-table
   * load lock already keeps other loads out; the primary key still refuses anything else.
   */
  mergeStaging(table: TableDefinition): string {
    const cols = this.columns(table).join(', ');
    const keys = table.key.map((k) => quoteIdent(k));
    const order = table.keepEarliest === undefined ? keys.join(', ') : `${keys.join(', ')}, ${quoteIdent(table.keepEarliest)}`;
    return `WITH inserted AS (
  INSERT INTO ${this.target(table)} (${cols})
  SELECT DISTINCT ON (${keys.join(', ')}) ${cols} FROM ${this.staging(table)} s
  WHERE NOT EXISTS (${this.keyProbe(table)})
  ORDER BY ${order}
  RETURNING 1
)
SELECT count(*)::bigint AS inserted FROM inserted`;
  }

  /** Marks where the fast path (COPY straight into the target) can be undone. */
  savepoint(): string {
    return 'SAVEPOINT ferry_direct_copy';
  }

  /** Undoes the fast path after the target refused a duplicate key. */
  rollbackToSavepoint(): string {
    return 'ROLLBACK TO SAVEPOINT ferry_direct_copy';
  }

  releaseSavepoint(): string {
    return 'RELEASE SAVEPOINT ferry_direct_copy';
  }

  /**
   * For a table with a `collisionKey`: de-duplicates staging on the key like `mergeStaging`,
   * inserts what the target lacks, and reports per `source_key` the rows inserted and those that
   * collided — whose collision key a row of other content already had, stored before this
   * statement (its snapshot does not see its own inserts) or inserted before it (by
   * `keepEarliest`, then key).
   *
   * Each staged row looks its collision key up in the target once, before the insert (asked of
   * the inserted rows, each look met the row just inserted and read it to find it invisible):
   * the stored rows under it tell both whether the key was held (`ferry_prior`) and, where the
   * collision key is part of the key, whether the whole key is stored (`ferry_stored`) — one look
   * where an `EXISTS` for each had entered the index twice for every re-sent row. A subquery
   * with an aggregate stays a lookup per row (the planner cannot turn it into a join reading the
   * whole target). The counts come from the rows chosen for the insert, which are the rows
   * inserted.
   */
  mergeCounting(table: TableDefinition): string {
    const cols = this.columns(table).join(', ');
    const keys = table.key.map((k) => quoteIdent(k));
    const near = (table.collisionKey ?? []).map((k) => quoteIdent(k));
    const rest = keys.filter((k) => !near.includes(k));
    const earliest = table.keepEarliest === undefined ? [] : [quoteIdent(table.keepEarliest)];
    const within = near.every((k) => keys.includes(k));
    const sameKey = rest.length === 0 ? 'true' : rest.map((k) => `t.${k} = s.${k}`).join(' AND ');
    const stored = within ? 's.ferry_stored' : `EXISTS (${this.keyProbe(table)})`;
    return `WITH staged AS (
  SELECT DISTINCT ON (${keys.join(', ')}) ${cols}
  FROM ${this.staging(table)} s
  ORDER BY ${[...keys, ...earliest].join(', ')}
), probed AS (
  SELECT s.*, p.ferry_prior, p.ferry_stored FROM staged s CROSS JOIN LATERAL (
    SELECT count(*) > 0 AS ferry_prior, ${within ? `coalesce(bool_or(${sameKey}), false)` : 'false'} AS ferry_stored
    FROM ${this.target(table)} t WHERE ${near.map((k) => `t.${k} = s.${k}`).join(' AND ')}
  ) p
), fresh AS (
  SELECT * FROM probed s WHERE NOT ${stored}
), inserted AS (
  INSERT INTO ${this.target(table)} (${cols}) SELECT ${cols} FROM fresh
), ranked AS (
  SELECT f.${quoteIdent('source_key')} AS source_key,
    row_number() OVER (PARTITION BY ${near.map((k) => `f.${k}`).join(', ')} ORDER BY ${[...earliest, ...rest].map((k) => `f.${k}`).join(', ')}) AS ferry_order,
    f.ferry_prior
  FROM fresh f
)
SELECT source_key, count(*)::bigint AS inserted, (count(*) FILTER (WHERE ferry_order > 1 OR ferry_prior))::bigint AS collisions
FROM ranked GROUP BY source_key`;
  }

  /**
   * Whether the target holds two rows of one collision key among a copied run's keys
   * (`CollisionKeys.params`: the values of the key's first column, the run's row count and
   * first row for each, then the other columns in that order): after the run was copied straight
   * in, whether it collided with a row stored before. Per group (session), one look at the key
   * index over the range of the run's second key column (`nr`), stopping past the run's count: a
   * group whose range holds no more rows than the run brought holds only the run's own, whose
   * keys differ (asked of `CollisionKeys.mayHoldTwice` before). Only a group with more has its
   * rows probed one by one, each stopping at two. `CASE` keeps that order: the planner orders an
   * `AND`'s operands by their estimated cost, and may put the probes first.
   */
  collidesSql(table: TableDefinition): string {
    const { first, rest, names, slices, range } = this.groupRange(table);
    const target = this.target(table);
    const probes =
      rest.length === 0
        ? 'true'
        : `EXISTS (
      SELECT 1 FROM unnest(${slices.join(', ')}) AS b(${names.join(', ')})
      WHERE (SELECT count(*) FROM (SELECT 1 FROM ${target} t WHERE t.${first.name} = g.k0 AND ${rest.map((c, i) => `t.${c.name} = b.${names[i]}`).join(' AND ')} LIMIT 2) AS m) > 1)`;
    return `SELECT EXISTS (
  SELECT 1 FROM unnest($1::${first.type}[], $2::bigint[], $3::bigint[]) AS g(k0, n, o)
  WHERE CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM ${target} t WHERE t.${first.name} = g.k0${range} LIMIT g.n + 1) AS m) > g.n
    THEN ${probes}
    ELSE false END
) AS collides`;
  }

  /**
   * The groups (sessions) among `CollisionKeys.params` of which the target holds a row in the
   * range of the group's second key column (`nr`) in the run: one look at the key index each.
   * A group it does not name holds none of the run's keys, nor any row they could collide with.
   */
  storedGroupsSql(table: TableDefinition): string {
    const { first, range } = this.groupRange(table);
    return `SELECT g.k0 AS stored FROM unnest($1::${first.type}[], $2::bigint[], $3::bigint[]) AS g(k0, n, o)
WHERE EXISTS (SELECT 1 FROM ${this.target(table)} t WHERE t.${first.name} = g.k0${range})`;
  }

  /** The collision key's columns for the per-group queries, and a group's range of its second column. */
  private groupRange(table: TableDefinition) {
    const [first, ...rest] = (table.collisionKey ?? []).map((k) => ({ name: quoteIdent(k), type: pgTypes[columnType(table, k)!] }));
    const names = rest.map((_, i) => `k${i + 1}`);
    const slices = rest.map((c, i) => `($${i + 4}::${c.type}[])[g.o + 1 : g.o + g.n]`);
    const range = rest.length === 0 ? '' : ` AND t.${rest[0]!.name} BETWEEN (SELECT min(v) FROM unnest(${slices[0]}) AS v) AND (SELECT max(v) FROM unnest(${slices[0]}) AS v)`;
    return { first: first!, rest, names, slices, range };
  }

  /**
   * Fast path: COPY straight into the target under a savepoint — one pass, as fast as psql's
   * \copy. The target's key refuses a row it already holds (a client's re-send), and only then
   * is the savepoint rolled back and the batch loaded the careful way: into a staging table,
   * de-duplicated keeping the earliest `keepEarliest`, inserted where the target lacks the key.
   */
  async loadBatch(batch: BatchInput): Promise<BatchCopied> {
    const { tx, table } = batch;
    if (table.collisionKey) return this.loadCounting(batch);
    await tx.query(this.sortMemory());
    await tx.query(this.savepoint());
    try {
      const total = await copyBatchFromClient(batch, this.copyTarget(table, this.target(table)));
      await tx.query(this.releaseSavepoint());
      return { total, inserted: total };
    } catch (err) {
      if (sqlstateOf(err) !== uniqueViolation) throw err;
      await tx.query(this.rollbackToSavepoint());
      await tx.query(this.createStaging(table));
      const total = await copyBatchFromClient(batch, this.copyTarget(table, this.staging(table)));
      const [merged] = await tx.query<{ inserted: string | number }>(this.mergeStaging(table));
      return { total, inserted: Number(merged?.inserted ?? 0) };
    }
  }

  /**
   * Always counts collisions, which are rows the key accepts. The batch's files go in runs of up
   * to `directCopyMaxRows` rows: each run is first copied straight into the target
   * (`copyUnlessColliding`); a run that holds a re-send or a collision is split by group
   * (`splitRun`): only the sessions involved go through staging and `mergeCounting`, which
   * counts them and sees the runs before as stored.
   */
  private async loadCounting(batch: BatchInput): Promise<BatchCopied> {
    const { tx, table } = batch;
    await tx.query(this.sortMemory());
    const out = { total: 0, inserted: 0, collisions: new Map<string, number>() };
    let stagingMade = false;
    const stage = async () => {
      await tx.query(stagingMade ? `TRUNCATE ${this.staging(table)}` : this.createStaging(table));
      stagingMade = true;
    };
    for (const files of runsOf(batch.files, this.directCopyMaxRows)) {
      const run = { ...batch, files };
      let copied: BatchCopied;
      if (files.length === 1 && files[0]!.expectedRows > this.directCopyMaxRows) {
        await stage(); // too many keys to hold: the merge alone
        copied = await this.mergeCountingRun(run, this.staged(run));
      } else {
        const attempt = await this.copyUnlessColliding(run);
        copied = 'total' in attempt ? attempt : await this.splitRun(run, attempt, stage);
      }
      out.total += copied.total;
      out.inserted += copied.inserted;
      for (const [key, n] of copied.collisions ?? []) out.collisions.set(key, (out.collisions.get(key) ?? 0) + n);
    }
    return out;
  }

  /** Copies `batch`'s records (those `keep` accepts, by their group) into the staging table; returns the rows. */
  private staged(batch: BatchInput, keep?: (group: string) => boolean): Promise<number> {
    const target = this.copyTarget(batch.table, this.staging(batch.table));
    return keep ? copyRecordsFromClient(batch, target, this.groupColumn(batch.table), (v) => keep(v ?? '')) : copyBatchFromClient(batch, target);
  }

  /** Merges what `copy` put in the staging table into the target, counting per source. */
  private async mergeCountingRun(batch: BatchInput, copy: Promise<number>): Promise<BatchCopied> {
    const total = await copy;
    const merged = await batch.tx.query<{ source_key: string; inserted: string | number; collisions: string | number }>(this.mergeCounting(batch.table));
    const collisions = new Map<string, number>();
    for (const m of merged) if (Number(m.collisions) > 0) collisions.set(m.source_key, Number(m.collisions));
    return { total, inserted: merged.reduce((n, m) => n + Number(m.inserted), 0), collisions };
  }

  /** Index of the table's column that groups its collision keys (`session`). */
  private groupColumn(table: TableDefinition): number {
    return table.columns.findIndex((c) => c.name === table.collisionKey![0]);
  }

  /** A reader of a run's collision keys from its CSV, chunk by chunk. */
  private collisionKeyReader(table: TableDefinition): { keys: CollisionKeys; csv: CsvColumns } {
    const collisionKey = table.collisionKey!;
    const keys = new CollisionKeys(collisionKey.map((k) => columnType(table, k)!));
    const csv = new CsvColumns(
      collisionKey.map((k) => table.columns.findIndex((c) => c.name === k)),
      (picked) => keys.add(picked),
    );
    return { keys, csv };
  }

  /** The collision keys of all of `batch`'s records, read from its files. */
  private async collisionKeysOf(batch: BatchInput): Promise<CollisionKeys> {
    const { keys, csv } = this.collisionKeyReader(batch.table);
    await readBatch(batch, (chunk) => csv.push(chunk));
    return keys;
  }

  /**
   * The direct COPY alone would store a collision without a word, so it is kept only when the
   * collision key columns, read from the CSV on its way, show no key held twice: not within the
   * run, nor in the target afterwards (`collidesSql`). Then every row was new and none collided,
   * as the merge would have found. Otherwise it is undone, and the keys it read returned, with
   * whether they are all the run's (the COPY did not stop at a stored key).
   */
  private async copyUnlessColliding(batch: BatchInput): Promise<BatchCopied | { keys: CollisionKeys; whole: boolean }> {
    const { tx, table } = batch;
    await tx.query(this.savepoint());
    const { keys, csv } = this.collisionKeyReader(table);
    let whole = false;
    try {
      const total = await copyBatchFromClient(batch, this.copyTarget(table, this.target(table)), (chunk) => csv.push(chunk));
      whole = csv.complete && csv.records === total;
      if (whole && !keys.mayHoldTwice()) {
        const [check] = await tx.query<{ collides: boolean }>(this.collidesSql(table), keys.params());
        if (check && !check.collides) {
          await tx.query(this.releaseSavepoint());
          return { total, inserted: total };
        }
      }
    } catch (err) {
      if (sqlstateOf(err) !== uniqueViolation) throw err;
    }
    await tx.query(this.rollbackToSavepoint());
    return { keys, whole };
  }

  /**
   * A run that held a re-send or a collision, loaded as the merge would load it but merging only
   * the groups (sessions) involved: those holding a key twice in the run, by its text, and those
   * with a stored row in the run's range of `nr` (`storedGroupsSql`). The other groups' records
   * can neither repeat nor collide with a stored key, so they are copied straight into the
   * target; the others go through staging and `mergeCounting`. At-least-once clients re-send a
   * few requests in every tick's worth of events, which no longer makes the whole run pay for
   * the merge. When the COPY stopped at a stored key, the keys it read are a sample: mostly
   * involved, the run is a re-sent load and is merged whole without reading its keys again.
   * Should the target still refuse a key, the run is merged whole.
   */
  private async splitRun(batch: BatchInput, read: { keys: CollisionKeys; whole: boolean }, stage: () => Promise<void>): Promise<BatchCopied> {
    const { tx, table } = batch;
    const merge = async (keep?: (group: string) => boolean) => {
      await stage();
      return this.mergeCountingRun(batch, this.staged(batch, keep));
    };
    let { keys } = read;
    let involved = await this.involvedGroups(tx, table, keys);
    if (!read.whole) {
      if (involved.size * 2 > keys.size) return merge();
      keys = await this.collisionKeysOf(batch);
      involved = await this.involvedGroups(tx, table, keys);
    }
    if (involved.size === keys.size) return merge();
    let direct: number;
    try {
      direct = await copyRecordsFromClient(batch, this.copyTarget(table, this.target(table)), this.groupColumn(table), (v) => !involved.has(v ?? ''));
    } catch (err) {
      if (sqlstateOf(err) !== uniqueViolation) throw err;
      await tx.query(this.rollbackToSavepoint());
      return merge();
    }
    await tx.query(this.releaseSavepoint());
    if (involved.size === 0) return { total: direct, inserted: direct };
    const merged = await merge((group) => involved.has(group));
    return { ...merged, total: direct + merged.total, inserted: direct + merged.inserted };
  }

  /** The groups of `keys` that hold a key twice or have a stored row in their range. */
  private async involvedGroups(tx: WarehouseTransaction, table: TableDefinition, keys: CollisionKeys): Promise<Set<string>> {
    const involved = keys.groupsHoldingTwice();
    for (const row of await tx.query<{ stored: string }>(this.storedGroupsSql(table), keys.params(involved))) involved.add(row.stored);
    return involved;
  }

  async recordCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.collisions} AS c (source_key, collisions) SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT (source_key) DO UPDATE SET collisions = c.collisions + EXCLUDED.collisions`,
      [[...collisions.keys()], [...collisions.values()]],
    );
  }

  async collisionsOf(q: Queryable, sourceKeys: readonly string[]): Promise<Map<string, number>> {
    const rows = await q.query<{ source_key: string; collisions: string | number }>(`SELECT source_key, collisions FROM ${this.collisions} WHERE source_key = ANY($1::text[])`, [sourceKeys]);
    return new Map(rows.map((r) => [r.source_key, Number(r.collisions)]));
  }

  async addSourceCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void> {
    await tx.query(
      `UPDATE ${this.schema}.${quoteIdent('source_counts')} s SET collisions = coalesce(s.collisions, 0) + u.n
FROM unnest($1::text[], $2::bigint[]) AS u(source_key, n) WHERE s.source_key = u.source_key`,
      [[...collisions.keys()], [...collisions.values()]],
    );
  }

  /** One manifest row per file, from parallel arrays `$1..$6`. */
  insertManifest(): string {
    return `INSERT INTO ${this.manifest} (file_key, etag, table_name, rows_expected, rows_loaded, run_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[])`;
  }

  async recordManifest(tx: WarehouseTransaction, table: string, files: readonly LoadedFile[], runId: string): Promise<void> {
    await tx.query(this.insertManifest(), [
      files.map((f) => f.key),
      files.map((f) => f.etag),
      files.map(() => table),
      files.map((f) => f.expectedRows),
      files.map((f) => f.rowsLoaded),
      files.map(() => runId),
    ]);
  }

  /** Records a rolled-back batch (outside its transaction): `$1` run, `$2` table, `$3` code, `$4` message, `$5` keys. */
  insertFailure(): string {
    return `INSERT INTO ${this.failures} (run_id, table_name, code, message, file_keys) VALUES ($1, $2, $3, $4, $5::text[])`;
  }

  async recordFailure(q: Queryable, f: LoadFailure): Promise<void> {
    await q.query(this.insertFailure(), [f.runId, f.table, f.code, f.message, f.keys]);
  }

  refusesData(err: unknown): boolean {
    return refusedSqlstate(sqlstateOf(err));
  }

  errorCode(err: unknown): string | undefined {
    return sqlstateOf(err);
  }

  /** Records refused files from parallel arrays `$1..$7`; a file quarantined again gets the new error. */
  insertQuarantine(): string {
    return `INSERT INTO ${this.quarantined} AS q (file_key, etag, table_name, code, sqlstate, message, run_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
ON CONFLICT (file_key) DO UPDATE SET etag = EXCLUDED.etag, table_name = EXCLUDED.table_name, code = EXCLUDED.code, sqlstate = EXCLUDED.sqlstate,
  message = EXCLUDED.message, run_id = EXCLUDED.run_id, quarantined_at = now()`;
  }

  async quarantine(warehouse: Warehouse, entries: readonly QuarantineEntry[]): Promise<void> {
    await warehouse.query(this.insertQuarantine(), [
      entries.map((e) => e.key),
      entries.map((e) => e.etag),
      entries.map((e) => e.table),
      entries.map((e) => e.code),
      entries.map((e) => e.sqlstate),
      entries.map((e) => e.message),
      entries.map((e) => e.runId),
    ]);
  }

  async quarantinedEtags(q: Queryable, keys: readonly string[]): Promise<Map<string, string>> {
    const rows = await q.query<{ file_key: string; etag: string }>(`SELECT file_key, etag FROM ${this.quarantined} WHERE file_key = ANY($1::text[])`, [keys]);
    return new Map(rows.map((r) => [r.file_key, r.etag]));
  }

  async releaseQuarantine(q: Queryable, keys: readonly string[]): Promise<void> {
    await q.query(`DELETE FROM ${this.quarantined} WHERE file_key = ANY($1::text[])`, [keys]);
  }

  async quarantinedFiles(q: Queryable, table?: string): Promise<QuarantineRow[]> {
    const where = table === undefined ? '' : ' WHERE table_name = $1';
    return toQuarantineRows(
      await q.query(
        `SELECT table_name, file_key, etag, code, sqlstate, message, run_id, to_char(quarantined_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS quarantined_at
FROM ${this.quarantined}${where} ORDER BY quarantined_at, file_key`,
        table === undefined ? [] : [table],
      ),
    );
  }

  isMissingTable(err: unknown): boolean {
    return sqlstateOf(err) === undefinedTable;
  }

  async manifestTotals(q: Queryable): Promise<ManifestTotal[]> {
    return toTotals(
      await q.query(`SELECT table_name, count(*)::bigint AS files, sum(rows_loaded)::bigint AS rows, to_char(max(loaded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_loaded_at
FROM ${this.manifest} GROUP BY table_name ORDER BY table_name`),
    );
  }

  /** Date partition of a manifest key: `parsed/<table>/<date>/…`, or `summaries/<date>/…`. */
  async manifestByDay(q: Queryable, days: number): Promise<ManifestDay[]> {
    return toDays(
      await q.query(
        `SELECT table_name, date, files, rows FROM (
  SELECT table_name, split_part(file_key, '/', 2 + (table_name <> 'source_counts')::int) AS date, count(*)::bigint AS files, sum(rows_loaded)::bigint AS rows,
    row_number() OVER (PARTITION BY table_name ORDER BY split_part(file_key, '/', 2 + (table_name <> 'source_counts')::int) DESC) AS n
  FROM ${this.manifest} GROUP BY 1, 2
) d WHERE n <= $1 ORDER BY table_name, date DESC`,
        [days],
      ),
    );
  }

  async latestFailures(q: Queryable): Promise<LatestFailure[]> {
    return toFailures(
      await q.query(`SELECT DISTINCT ON (table_name) table_name, run_id, code, message, file_keys, to_char(failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS failed_at
FROM ${this.failures} ORDER BY table_name, failed_at DESC`),
    );
  }
}
