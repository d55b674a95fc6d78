import type { TableDefinition } from '../../model/table-definition.js';
import type { Warehouse, WarehouseTransaction } from '../../ports/warehouse.js';
import { copyFilesFromClient } from '../client-copy.js';
import { backfill, sameKey } from '../key-migration.js';
import { tableLocked, type BatchCopied, type BatchInput, type LoadDialect } from '../load-dialect.js';
import { bracketIdent, checkIdentifier, stringLiteral } from '../sql-text.js';
import { commentsToWrite, tableComments, type StoredComment, type TableComment } from '../../model/table-docs.js';
import { TsqlDialectBase } from './tsql.js';

// A nonclustered key may be 1,700 bytes; NVARCHAR is 2 bytes a character.
const keyBytes = 1700;

/**
 * Azure SQL Database: it cannot read gzip from storage, so Ferry streams each file through the
 * client as a TDS bulk load (tedious `execBulkLoad`, rows never all in memory) into a `#temp`
 * staging table; `sp_getapplock` (transaction-owned, no wait) is the per-table load lock; keys are
 * real, enforced primary keys.
 */
export class AzureSqlDialect extends TsqlDialectBase implements LoadDialect {
  readonly kind = 'azuresql' as const;

  protected textColumnType(isKey: boolean, table: TableDefinition): string {
    if (!isKey) return 'NVARCHAR(MAX)';
    const keyColumns = table.columns.filter((c) => table.key.includes(c.name));
    const fixed = keyColumns.filter((c) => c.type !== 'text').length * 8;
    const texts = keyColumns.filter((c) => c.type === 'text').length;
    return `NVARCHAR(${Math.floor((keyBytes - fixed) / 2 / texts)})`;
  }

  private staging(table: TableDefinition): string {
    return `#${checkIdentifier(`ferry_staging_${table.name}`)}`;
  }

  /** DDL in order; each statement creates only what is missing. */
  createStatements(tables: readonly TableDefinition[]): string[] {
    const statements = [
      this.createSchemaStatement(),
      this.createTableIfMissing(this.manifest, [...this.manifestColumns(), '  CONSTRAINT [pk_load_manifest] PRIMARY KEY NONCLUSTERED ([file_key])']),
      this.createTableIfMissing(this.failures, this.failureColumns()),
      this.createTableIfMissing(this.quarantined, [...this.quarantineColumns(), '  CONSTRAINT [pk_load_quarantine] PRIMARY KEY NONCLUSTERED ([file_key])']),
      this.createTableIfMissing(this.collisions, [...this.collisionColumns(), '  CONSTRAINT [pk_load_collisions] PRIMARY KEY NONCLUSTERED ([source_key])']),
    ];
    for (const table of tables) {
      const key = table.key.map((k) => bracketIdent(k)).join(', ');
      statements.push(
        this.createTableIfMissing(this.target(table), [...this.columnDefinitions(table, false), `  CONSTRAINT ${bracketIdent(`pk_${table.name}`)} PRIMARY KEY NONCLUSTERED (${key})`]),
        ...this.addMissingColumns(table),
        ...this.timeIndexes(table),
      );
    }
    return statements;
  }

  /** A nonclustered index per time column analysts filter by (the table is a heap keyed nonclustered). */
  timeIndexes(table: TableDefinition): string[] {
    return (table.timeIndexes ?? []).map(({ column }) => {
      const name = `ix_${table.name}_${column}`;
      return `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'${this.target(table)}') AND name = N'${name}') CREATE NONCLUSTERED INDEX ${bracketIdent(name)} ON ${this.target(table)} (${bracketIdent(column)})`;
    });
  }

  /** The `MS_Description` extended properties on the tables of schema `@p1`, `column_name` '' for a table's own. */
  storedCommentsSql(): string {
    return `SELECT t.name AS table_name, COALESCE(c.name, N'') AS column_name, CAST(ep.value AS NVARCHAR(4000)) AS description
FROM sys.extended_properties ep
INNER JOIN sys.tables t ON t.object_id = ep.major_id
LEFT JOIN sys.columns c ON c.object_id = ep.major_id AND c.column_id = ep.minor_id AND ep.minor_id > 0
WHERE ep.class = 1 AND ep.name = N'MS_Description' AND t.schema_id = SCHEMA_ID(@p1)`;
  }

  /**
   * SQL Server has no COMMENT ON: a description is the `MS_Description` extended property SSMS and
   * Azure Data Studio show. Arguments by position (name, value, then the level type/name pairs).
   */
  describe(comment: TableComment & { exists: boolean }): string {
    const levels = [`N'SCHEMA', N'${this.schemaName}'`, `N'TABLE', N'${comment.table}'`];
    if (comment.column !== undefined) levels.push(`N'COLUMN', N'${comment.column}'`);
    const procedure = comment.exists ? 'sp_updateextendedproperty' : 'sp_addextendedproperty';
    return `EXEC ${procedure} N'MS_Description', ${stringLiteral(comment.text, 'N')}, ${levels.join(', ')}`;
  }

  /** Transaction-owned application lock; `@p1` names the resource, `@p2` the wait in ms (0: try). */
  appLock(): string {
    return `DECLARE @result INT;
EXEC @result = sp_getapplock @Resource = @p1, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = @p2;
SELECT CASE WHEN @result >= 0 THEN 1 ELSE 0 END AS locked`;
  }

  async ensureSchema(warehouse: Warehouse, tables: readonly TableDefinition[]): Promise<void> {
    await warehouse.transaction(async (tx) => {
      await tx.query(this.appLock(), [`ferry.ddl.${this.schemaName}`, -1]);
      for (const statement of this.createStatements(tables)) await tx.query(statement);
      for (const table of tables) await this.migrateKey(tx, table);
      const stored = await tx.query<StoredComment>(this.storedCommentsSql(), [this.schemaName]);
      for (const comment of commentsToWrite(tableComments(tables), stored)) await tx.query(this.describe(comment));
    });
  }

  /** The primary key's columns in order, with its name: `@p1` the qualified table. */
  primaryKeySql(): string {
    return `SELECT c.name AS column_name, i.name AS constraint_name
FROM sys.indexes i
INNER JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
INNER JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = OBJECT_ID(@p1) AND i.is_primary_key = 1
ORDER BY ic.key_ordinal`;
  }

  /**
   * Moves a table created with an older key to `table.key` in the schema transaction: fills the
   * backfill column for existing rows, gives the new key columns their key type NOT NULL (a text
   * column outside the old key may be NVARCHAR(MAX), which no index takes), swaps the key.
   */
  private async migrateKey(tx: WarehouseTransaction, table: TableDefinition): Promise<void> {
    const current = await tx.query<{ column_name: string; constraint_name: string }>(this.primaryKeySql(), [this.target(table)]);
    const columns = current.map((r) => r.column_name);
    if (sameKey(columns, table.key)) return;
    if (table.backfill && columns.length > 0) await backfill(tx, table, columns, this.backfillSql(table, columns));
    const target = this.target(table);
    for (const c of table.columns.filter((c) => table.key.includes(c.name) && !columns.includes(c.name))) {
      await tx.query(`ALTER TABLE ${target} ALTER COLUMN ${bracketIdent(c.name)} ${this.columnType(c.type, true, table)} NOT NULL`);
    }
    if (current[0]) await tx.query(`ALTER TABLE ${target} DROP CONSTRAINT ${bracketIdent(current[0].constraint_name)}`);
    await tx.query(`ALTER TABLE ${target} ADD CONSTRAINT ${bracketIdent(`pk_${table.name}`)} PRIMARY KEY NONCLUSTERED (${table.key.map((k) => bracketIdent(k)).join(', ')})`);
  }

  async withTableLock<T>(warehouse: Warehouse, table: string, _runId: string, fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T | typeof tableLocked> {
    return warehouse.transaction(async (tx) => {
      const [lock] = await tx.query<{ locked: number }>(this.appLock(), [`ferry.load.${this.schemaName}.${table}`, 0]);
      return lock?.locked === 1 ? fn(tx) : tableLocked;
    });
  }

  async loadBatch(batch: BatchInput): Promise<BatchCopied> {
    const { tx, table } = batch;
    const staging = this.staging(table);
    await tx.query(`CREATE TABLE ${staging} (\n${this.columnDefinitions(table, true).join(',\n')}\n)`);
    const perFile = await copyFilesFromClient(batch, this.copyTarget(table, staging));
    const collisions = await this.countCollisions(tx, table, staging);
    const inserted = await tx.execute(this.insertNewRows(table, staging));
    // A #temp table lives as long as the session, and pooled sessions outlive this batch.
    await tx.query(`DROP TABLE ${staging}`);
    return { perFile, total: perFile.reduce((a, b) => a + b, 0), inserted, ...(collisions ? { collisions } : {}) };
  }
}
