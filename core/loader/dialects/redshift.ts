import { ConfigError } from '../../errors.js';
import type { ColumnType, TableDefinition } from '../../model/table-definition.js';
import type { Warehouse, WarehouseTransaction } from '../../ports/warehouse.js';
import { insertFilesFromClient, type Statement } from '../client-copy.js';
import { collisionCountSql, collisionsFrom } from '../collision-sql.js';
import { backfill, backfillColumns, keysetAfter, sameKey, type BackfillSql } from '../key-migration.js';
import {
  chunked,
  errorChain,
  numberOf,
  sqlstateOf,
  toDays,
  toFailures,
  toQuarantineRows,
  toTotals,
  type BatchCopied,
  type BatchInput,
  type LatestFailure,
  type LoadDialect,
  type LoadedFile,
  type LoadFailure,
  type ManifestDay,
  type ManifestTotal,
  type QuarantineEntry,
  type QuarantineRow,
  type Queryable,
  type tableLocked,
  addCollisionsSql,
} from '../load-dialect.js';
import { commentOn, refusedSqlstate, storedCommentsSql } from './postgres.js';
import { commentsToWrite, tableComments, type StoredComment } from '../../model/table-docs.js';
import { quoteIdent, stringLiteral } from '../sql-text.js';
import { storageLayout } from '../../storage-layout.js';

// Redshift's TEXT is VARCHAR(256); parsed values can be longer. JSON stays text (SUPER would need
// JSON_PARSE on every load and is not what COPY … CSV fills).
const redshiftTypes: Record<ColumnType, string> = {
  text: 'VARCHAR(65535)',
  bigint: 'BIGINT',
  double: 'DOUBLE PRECISION',
  timestamp: 'TIMESTAMP',
  json: 'VARCHAR(65535)',
};

/** SQLSTATE of a missing relation (Redshift keeps PostgreSQL's codes). */
const undefinedTable = '42P01';

/** Settings of the Redshift dialect. */
export interface RedshiftOptions {
  schema: string;
  /** Role Redshift assumes to read the S3 objects (`FERRY_REDSHIFT_IAM_ROLE`). */
  iamRole: string;
  /** The bucket's region when it differs from the cluster's (`FERRY_REDSHIFT_REGION`). */
  region?: string;
}

const iamRoleArn = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const awsRegion = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * Amazon Redshift: the data files never pass through Ferry — one `COPY … FROM '<manifest>'
 * MANIFEST GZIP CSV` per table batch reads them from S3 (Redshift wants one COPY per table), into
 * a temporary staging table `LIKE` the target. Primary keys are informational only there, so the
 * load de-duplicates itself: `ROW_NUMBER()` over the key keeps the earliest row, and only keys the
 * target lacks are inserted. No advisory locks exist: `LOCK` on the manifest table serializes
 * loads (a second run waits, then finds the files in the manifest). No TRUNCATE anywhere — it
 * would commit the transaction half way.
 */
export class RedshiftDialect implements LoadDialect {
  readonly kind = 'redshift' as const;
  private readonly schemaName: string;
  private readonly schema: string;
  private readonly manifest: string;
  private readonly failures: string;
  private readonly quarantined: string;
  private readonly collisions: string;
  private readonly iamRole: string;
  private readonly region: string | undefined;

  constructor(options: RedshiftOptions) {
    this.schemaName = options.schema;
    this.schema = quoteIdent(options.schema, 'FERRY_WAREHOUSE_SCHEMA');
    this.manifest = `${this.schema}.${quoteIdent('load_manifest')}`;
    this.failures = `${this.schema}.${quoteIdent('load_failures')}`;
    this.quarantined = `${this.schema}.${quoteIdent('load_quarantine')}`;
    this.collisions = `${this.schema}.${quoteIdent('load_collisions')}`;
    const problems = [];
    if (!iamRoleArn.test(options.iamRole)) problems.push({ key: 'FERRY_REDSHIFT_IAM_ROLE', reason: `must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got "${options.iamRole}"` });
    if (options.region !== undefined && !awsRegion.test(options.region)) problems.push({ key: 'FERRY_REDSHIFT_REGION', reason: `is not an AWS region name: "${options.region}"` });
    if (problems.length > 0) throw new ConfigError(problems);
    this.iamRole = options.iamRole;
    this.region = options.region;
  }

  private target(table: TableDefinition): string {
    return `${this.schema}.${quoteIdent(table.name)}`;
  }

  private staging(table: TableDefinition): string {
    return quoteIdent(`ferry_staging_${table.name}`);
  }

  private columnList(table: TableDefinition): string {
    return table.columns.map((c) => quoteIdent(c.name)).join(', ');
  }

  /** Statements creating what is missing; column additions are decided by `addColumns`. */
  createStatements(tables: readonly TableDefinition[]): string[] {
    const statements = [
      `LOCK ${this.manifest}`,
      `CREATE TABLE IF NOT EXISTS ${this.failures} (
  run_id VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  code VARCHAR(64) NOT NULL,
  message VARCHAR(65535) NOT NULL,
  file_keys VARCHAR(65535) NOT NULL,
  failed_at TIMESTAMP NOT NULL DEFAULT SYSDATE
)`,
      `CREATE TABLE IF NOT EXISTS ${this.quarantined} (
  file_key VARCHAR(1024) NOT NULL,
  etag VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  code VARCHAR(64) NOT NULL,
  sqlstate VARCHAR(64),
  message VARCHAR(65535) NOT NULL,
  run_id VARCHAR(256) NOT NULL,
  quarantined_at TIMESTAMP NOT NULL DEFAULT SYSDATE,
  PRIMARY KEY (file_key)
)`,
      `CREATE TABLE IF NOT EXISTS ${this.collisions} (
  source_key VARCHAR(1024) NOT NULL,
  collisions BIGINT NOT NULL,
  PRIMARY KEY (source_key)
)`,
    ];
    for (const table of tables) {
      const columns = table.columns.map((c) => `  ${quoteIdent(c.name)} ${redshiftTypes[c.type]}${c.required ? ' NOT NULL' : ''}`);
      const key = table.key.map((k) => quoteIdent(k)).join(', ');
      // Distributing on the first key column keeps a key's rows on one slice: the NOT EXISTS
      // join against the target stays local.
      statements.push(
        `CREATE TABLE IF NOT EXISTS ${this.target(table)} (\n${columns.join(',\n')},\n  PRIMARY KEY (${key})\n) DISTKEY (${quoteIdent(table.key[0]!)})${this.sortKey(table)}`,
      );
    }
    return statements;
  }

  /**
   * Redshift has no secondary indexes: a time column the rows arrive in order of is the sort key,
   * so loads append nearly sorted and zone maps skip blocks for that and correlated times (`at`).
   */
  private sortKey(table: TableDefinition): string {
    const column = table.timeIndexes?.find((t) => t.arrivalOrder)?.column;
    return column === undefined ? '' : ` SORTKEY (${quoteIdent(column)})`;
  }

  /** Columns of one table as Redshift lists them: `$1` schema, `$2` table. */
  existingColumnsSql(): string {
    return `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`;
  }

  /** `ALTER TABLE … ADD COLUMN` for each column the table lacks (Redshift has no ADD COLUMN IF NOT EXISTS). */
  addColumns(table: TableDefinition, existing: ReadonlySet<string>): string[] {
    return table.columns
      .filter((c) => !existing.has(c.name))
      .map((c) => `ALTER TABLE ${this.target(table)} ADD COLUMN ${quoteIdent(c.name)} ${redshiftTypes[c.type]}`);
  }

  async ensureSchema(warehouse: Warehouse, tables: readonly TableDefinition[]): Promise<void> {
    // The manifest must exist before it can be the DDL lock.
    await warehouse.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await warehouse.query(`CREATE TABLE IF NOT EXISTS ${this.manifest} (
  file_key VARCHAR(1024) NOT NULL,
  etag VARCHAR(256) NOT NULL,
  table_name VARCHAR(127) NOT NULL,
  rows_expected BIGINT NOT NULL,
  rows_loaded BIGINT NOT NULL,
  run_id VARCHAR(256) NOT NULL,
  loaded_at TIMESTAMP NOT NULL DEFAULT SYSDATE,
  PRIMARY KEY (file_key)
)`);
    await warehouse.transaction(async (tx) => {
      for (const statement of this.createStatements(tables)) await tx.query(statement);
      for (const table of tables) {
        const existing = new Set((await tx.query<{ column_name: string }>(this.existingColumnsSql(), [this.schemaName, table.name])).map((r) => r.column_name));
        for (const statement of this.addColumns(table, existing)) await tx.query(statement);
        await this.migrateKey(tx, table);
      }
      const stored = await tx.query<StoredComment>(storedCommentsSql, [this.schemaName]);
      for (const comment of commentsToWrite(tableComments(tables), stored)) await tx.query(commentOn(this.schema, comment));
    });
  }

  /** The declared primary key's columns in order, with the constraint's name: `$1` schema, `$2` table. */
  primaryKeySql(): string {
    return `SELECT kcu.column_name, tc.constraint_name
FROM information_schema.table_constraints tc
INNER JOIN information_schema.key_column_usage kcu ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
WHERE tc.table_schema = $1 AND tc.table_name = $2 AND tc.constraint_type = 'PRIMARY KEY'
ORDER BY kcu.ordinal_position`;
  }

  /**
   * Moves a table declared with an older key to `table.key`: fills the backfill column for the
   * existing rows, then replaces the declared key (informational on Redshift, but the planner
   * trusts it, so a key the rows no longer satisfy must go). Redshift cannot make an added column
   * NOT NULL; every row has a value all the same.
   */
  private async migrateKey(tx: WarehouseTransaction, table: TableDefinition): Promise<void> {
    const current = await tx.query<{ column_name: string; constraint_name: string }>(this.primaryKeySql(), [this.schemaName, table.name]);
    const columns = current.map((r) => r.column_name);
    if (sameKey(columns, table.key)) return;
    if (table.backfill && columns.length > 0) await backfill(tx, table, columns, this.backfillSql(table, columns));
    if (current[0]) await tx.query(`ALTER TABLE ${this.target(table)} DROP CONSTRAINT ${quoteIdent(current[0].constraint_name)}`);
    await tx.query(`ALTER TABLE ${this.target(table)} ADD PRIMARY KEY (${table.key.map((k) => quoteIdent(k)).join(', ')})`);
  }

  /** A value as its column's type, from a text parameter. */
  private cast(table: TableDefinition, column: string, placeholder: string): string {
    return `CAST(${placeholder} AS ${redshiftTypes[table.columns.find((c) => c.name === column)?.type ?? 'text']})`;
  }

  backfillSql(table: TableDefinition, by: readonly string[]): BackfillSql {
    const target = this.target(table);
    const fill = quoteIdent(table.backfill!.column);
    const order = by.map((k) => quoteIdent(k));
    const read = backfillColumns(table, by).map((c) => {
      const name = quoteIdent(c);
      const type = table.columns.find((d) => d.name === c)?.type;
      if (type === 'timestamp') return `TO_CHAR(${name}, 'YYYY-MM-DD HH24:MI:SS') AS ${name}`;
      return type === 'text' || type === 'json' ? name : `CAST(${name} AS VARCHAR(64)) AS ${name}`;
    });
    return {
      rowsPerSelect: 20_000,
      rowsPerUpdate: 1_000,
      select: (after, limit): Statement => {
        const from = after === undefined ? '' : ` AND (${keysetAfter(order, (i) => this.cast(table, by[i]!, `$${i + 1}`))})`;
        return { sql: `SELECT ${read.join(', ')} FROM ${target} WHERE ${fill} IS NULL${from} ORDER BY ${order.join(', ')} LIMIT ${limit}`, params: after === undefined ? [] : [...after] };
      },
      update: (rows): Statement => {
        const width = by.length + 1;
        const selects = rows.map(
          (_, r) => `SELECT ${[...by.map((k, i) => `${this.cast(table, k, `$${r * width + i + 1}`)} AS k${i}`), `CAST($${r * width + width} AS VARCHAR(64)) AS v`].join(', ')}`,
        );
        return {
          sql: `UPDATE ${target} SET ${fill} = u.v FROM (
${selects.join('\nUNION ALL ')}
) u
WHERE ${by.map((k, i) => `${target}.${quoteIdent(k)} = u.k${i}`).join(' AND ')} AND ${target}.${fill} IS NULL`,
          params: rows.flat(),
        };
      },
    };
  }

  /** `(source_key, n)` pairs as a derived table of parameters. */
  private pairs(collisions: ReadonlyMap<string, number>): Statement {
    const selects = [...collisions.keys()].map((_, i) => `SELECT CAST($${i * 2 + 1} AS VARCHAR(1024)) AS source_key, CAST($${i * 2 + 2} AS BIGINT) AS n`);
    return { sql: `(
${selects.join('\nUNION ALL ')}
) u`, params: [...collisions].flat() };
  }

  async recordCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void> {
    for (const chunk of chunked([...collisions], 1000)) {
      const { sql: u, params } = this.pairs(new Map(chunk));
      for (const statement of addCollisionsSql(this.collisions, u)) await tx.query(statement, params);
    }
  }

  async collisionsOf(q: Queryable, sourceKeys: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const chunk of chunked(sourceKeys, 500)) {
      const placeholders = chunk.map((_, i) => `$${i + 1}`).join(', ');
      for (const row of await q.query<{ source_key: string; collisions: unknown }>(`SELECT source_key, collisions FROM ${this.collisions} WHERE source_key IN (${placeholders})`, chunk)) {
        found.set(row.source_key, numberOf(row.collisions));
      }
    }
    return found;
  }

  async addSourceCollisions(tx: WarehouseTransaction, collisions: ReadonlyMap<string, number>): Promise<void> {
    const counts = `${this.schema}.${quoteIdent('source_counts')}`;
    for (const chunk of chunked([...collisions], 1000)) {
      const { sql: u, params } = this.pairs(new Map(chunk));
      await tx.query(`UPDATE ${counts} SET collisions = COALESCE(${counts}.collisions, 0) + u.n FROM ${u} WHERE ${counts}.source_key = u.source_key`, params);
    }
  }

  async loadedKeys(q: Queryable, keys: readonly string[]): Promise<Set<string>> {
    const loaded = new Set<string>();
    // No array parameters on Redshift: an IN list of placeholders, in chunks.
    for (const chunk of chunked(keys, 500)) {
      const placeholders = chunk.map((_, i) => `$${i + 1}`).join(', ');
      for (const row of await q.query<{ file_key: string }>(`SELECT file_key FROM ${this.manifest} WHERE file_key IN (${placeholders})`, chunk)) loaded.add(row.file_key);
    }
    return loaded;
  }

  async withTableLock<T>(warehouse: Warehouse, _table: string, _runId: string, fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T | typeof tableLocked> {
    return warehouse.transaction(async (tx) => {
      await tx.query(`LOCK ${this.manifest}`);
      return fn(tx);
    });
  }

  /** The COPY of one batch from its S3 manifest into the staging table. */
  copyFromManifest(table: TableDefinition, manifestUrl: string): string {
    const region = this.region === undefined ? '' : `\nREGION ${stringLiteral(this.region)}`;
    return `COPY ${this.staging(table)} (${this.columnList(table)})
FROM ${stringLiteral(manifestUrl)}
IAM_ROLE ${stringLiteral(this.iamRole)}${region}
MANIFEST GZIP CSV TIMEFORMAT 'auto' MAXERROR 0 COMPUPDATE OFF STATUPDATE OFF`;
  }

  /** Keeps one row per key (the earliest `keepEarliest`) and inserts those the target lacks. */
  insertNewRows(table: TableDefinition): string {
    const cols = this.columnList(table);
    const keys = table.key.map((k) => quoteIdent(k));
    const order = table.keepEarliest === undefined ? keys.join(', ') : quoteIdent(table.keepEarliest);
    return `INSERT INTO ${this.target(table)} (${cols})
SELECT ${cols} FROM (
  SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${order}) AS ferry_rank
  FROM ${this.staging(table)}
) s
WHERE s.ferry_rank = 1
  AND NOT EXISTS (SELECT 1 FROM ${this.target(table)} t WHERE ${keys.map((k) => `t.${k} = s.${k}`).join(' AND ')})`;
  }

  async loadBatch(batch: BatchInput): Promise<BatchCopied> {
    const { tx, table } = batch;
    await tx.query(`CREATE TEMP TABLE ${this.staging(table)} (LIKE ${this.target(table)})`);
    let copied: Pick<BatchCopied, 'perFile' | 'total'>;
    if (batch.storedCsv) {
      if (!batch.store.locate) throw new ConfigError([{ key: 'FERRY_S3_BUCKET', reason: 'Redshift loads its files from S3; the store must be an S3 bucket' }]);
      const locate = batch.store.locate.bind(batch.store);
      const manifestKey = `${storageLayout.loadManifests}${table.name}/${batch.runId}/${batch.batchId}.manifest`;
      const entries = batch.files.map((f) => ({ url: locate(f.key), mandatory: true }));
      await batch.store.put(manifestKey, Buffer.from(JSON.stringify({ entries })));
      await tx.query(this.copyFromManifest(table, locate(manifestKey)));
      const [count] = await tx.query<{ copied: unknown }>('SELECT pg_last_copy_count() AS copied');
      copied = { total: numberOf(count?.copied) };
    } else {
      const cols = this.columnList(table);
      const perFile = await insertFilesFromClient(batch, 100, (records) => {
        const width = table.columns.length;
        const values = records.map((_, r) => `(${table.columns.map((_, c) => `$${r * width + c + 1}`).join(', ')})`);
        return { sql: `INSERT INTO ${this.staging(table)} (${cols}) VALUES ${values.join(', ')}`, params: records.flat() };
      });
      copied = { perFile, total: perFile.reduce((a, b) => a + b, 0) };
    }
    const collisions = table.collisionKey ? collisionsFrom(await tx.query(collisionCountSql(table, this.target(table), this.staging(table), quoteIdent))) : undefined;
    const inserted = await tx.execute(this.insertNewRows(table));
    // Temporary tables outlive the transaction on a pooled session; the next batch makes its own.
    await tx.query(`DROP TABLE ${this.staging(table)}`);
    return { ...copied, inserted, ...(collisions ? { collisions } : {}) };
  }

  async recordManifest(tx: WarehouseTransaction, table: string, files: readonly LoadedFile[], runId: string): Promise<void> {
    for (const chunk of chunked(files, 500)) {
      const values = chunk.map((_, i) => `($${i * 6 + 1}, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}, $${i * 6 + 6})`);
      const params = chunk.flatMap((f) => [f.key, f.etag, table, f.expectedRows, f.rowsLoaded, runId]);
      await tx.query(`INSERT INTO ${this.manifest} (file_key, etag, table_name, rows_expected, rows_loaded, run_id) VALUES ${values.join(', ')}`, params);
    }
  }

  async recordFailure(q: Queryable, f: LoadFailure): Promise<void> {
    await q.query(`INSERT INTO ${this.failures} (run_id, table_name, code, message, file_keys) VALUES ($1, $2, $3, $4, $5)`, [
      f.runId,
      f.table,
      f.code,
      f.message.slice(0, 65535),
      JSON.stringify(f.keys),
    ]);
  }

  /**
   * PostgreSQL's data classes, plus what a refused COPY raises on Redshift: every COPY failure is
   * XX000, and only a row the files hold (bad value, short row, bad gzip) is reported through
   * `stl_load_errors` — access or manifest problems are not, and stay retryable.
   */
  refusesData(err: unknown): boolean {
    const sqlstate = sqlstateOf(err);
    if (refusedSqlstate(sqlstate)) return true;
    return sqlstate === 'XX000' && [...errorChain(err)].some((e) => /stl_load_errors/.test((e as Error).message ?? ''));
  }

  errorCode(err: unknown): string | undefined {
    return sqlstateOf(err);
  }

  async quarantine(warehouse: Warehouse, entries: readonly QuarantineEntry[]): Promise<void> {
    // Keys are not enforced on Redshift: replace earlier entries for these files in the same transaction.
    await warehouse.transaction(async (tx) => {
      await this.releaseQuarantine(tx, entries.map((e) => e.key));
      for (const chunk of chunked(entries, 500)) {
        const values = chunk.map((_, i) => `(${Array.from({ length: 7 }, (_, c) => `$${i * 7 + c + 1}`).join(', ')})`);
        const params = chunk.flatMap((e) => [e.key, e.etag, e.table, e.code, e.sqlstate, e.message.slice(0, 16383), e.runId]);
        await tx.query(`INSERT INTO ${this.quarantined} (file_key, etag, table_name, code, sqlstate, message, run_id) VALUES ${values.join(', ')}`, params);
      }
    });
  }

  async quarantinedEtags(q: Queryable, keys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const chunk of chunked(keys, 500)) {
      const placeholders = chunk.map((_, i) => `$${i + 1}`).join(', ');
      for (const row of await q.query<{ file_key: string; etag: string }>(`SELECT file_key, etag FROM ${this.quarantined} WHERE file_key IN (${placeholders})`, chunk)) {
        found.set(row.file_key, row.etag);
      }
    }
    return found;
  }

  async releaseQuarantine(q: Queryable, keys: readonly string[]): Promise<void> {
    for (const chunk of chunked(keys, 500)) {
      await q.query(`DELETE FROM ${this.quarantined} WHERE file_key IN (${chunk.map((_, i) => `$${i + 1}`).join(', ')})`, chunk);
    }
  }

  async quarantinedFiles(q: Queryable, table?: string): Promise<QuarantineRow[]> {
    const where = table === undefined ? '' : ' WHERE table_name = $1';
    return toQuarantineRows(
      await q.query(
        `SELECT table_name, file_key, etag, code, sqlstate, message, run_id, TO_CHAR(quarantined_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS quarantined_at
FROM ${this.quarantined}${where} ORDER BY quarantined_at, file_key`,
        table === undefined ? [] : [table],
      ),
    );
  }

  isMissingTable(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === undefinedTable;
  }

  async manifestTotals(q: Queryable): Promise<ManifestTotal[]> {
    return toTotals(
      await q.query(`SELECT table_name, COUNT(*) AS files, SUM(rows_loaded) AS rows, TO_CHAR(MAX(loaded_at), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_loaded_at
FROM ${this.manifest} GROUP BY table_name ORDER BY table_name`),
    );
  }

  async manifestByDay(q: Queryable, days: number): Promise<ManifestDay[]> {
    const date = `SPLIT_PART(file_key, '/', CASE WHEN table_name = 'source_counts' THEN 2 ELSE 3 END)`;
    return toDays(
      await q.query(
        `SELECT table_name, date, files, rows FROM (
  SELECT table_name, date, files, rows, ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY date DESC) AS n
  FROM (SELECT table_name, ${date} AS date, COUNT(*) AS files, SUM(rows_loaded) AS rows FROM ${this.manifest} GROUP BY 1, 2) g
) d WHERE n <= $1 ORDER BY table_name, date DESC`,
        [days],
      ),
    );
  }

  async latestFailures(q: Queryable): Promise<LatestFailure[]> {
    return toFailures(
      await q.query(`SELECT table_name, run_id, code, message, file_keys, failed_at FROM (
  SELECT table_name, run_id, code, message, file_keys, TO_CHAR(failed_at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS failed_at,
    ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY failed_at DESC) AS n
  FROM ${this.failures}
) f WHERE n = 1 ORDER BY table_name`),
    );
  }
}
