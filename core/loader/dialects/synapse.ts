import { ConfigError } from '../../errors.js';
import type { TableDefinition } from '../../model/table-definition.js';
import type { Warehouse, WarehouseTransaction } from '../../ports/warehouse.js';
import { insertFilesFromClient } from '../client-copy.js';
import { backfill } from '../key-migration.js';
import { numberOf, tableLocked, type BatchCopied, type BatchInput, type LoadDialect } from '../load-dialect.js';
import { bracketIdent, stringLiteral } from '../sql-text.js';
import { TsqlDialectBase } from './tsql.js';

/** SQL Server error number of "There is already an object named … in the database". */
const objectExists = 2714;

/** Settings of the Synapse dialect. */
export interface SynapseOptions {
  schema: string;
  /**
   * How long a load lease lasts if its holder dies without releasing it; longer than any load
   * (Azure Functions' longest timeout is 10 minutes on Consumption). Default 3,600 s.
   */
  leaseSeconds?: number;
}

/**
 * Azure Synapse dedicated SQL pool: one `COPY INTO` per table batch reads the gzip'd CSV straight
 * from Blob Storage with the workspace's managed identity (`ROWTERMINATOR = '0x0A'`: a bare `\n`
 * would mean CRLF; `MAXERRORS = 0`: no row dropped silently) into a ROUND_ROBIN heap staging
 * table. Keys cannot be enforced there (and a NOT ENFORCED key over duplicates gives wrong query
 * results), so targets carry none and the load de-duplicates itself. No `sp_getapplock` either:
 * a lease row per table, taken and released in statements of their own, is the load lock.
 */
export class SynapseDialect extends TsqlDialectBase implements LoadDialect {
  readonly kind: 'synapse' | 'fabric' = 'synapse';
  private readonly leases: string;
  private readonly leaseSeconds: number;

  constructor(options: SynapseOptions) {
    super(options.schema);
    this.leases = `${this.schema}.${bracketIdent('load_leases')}`;
    this.leaseSeconds = options.leaseSeconds ?? 3600;
  }

  // Columnstore tables take NVARCHAR(MAX) poorly; 4,000 characters hold any parsed text column,
  // and a longer value fails the COPY loudly (MAXERRORS = 0) rather than being cut.
  protected textColumnType(): string {
    return this.textType(4000);
  }

  /** Table options: targets hash-distributed columnstore, staging and bookkeeping round-robin heaps. */
  protected tableOptions(use: 'target' | 'staging' | 'manifest' | 'lease', table?: TableDefinition): string {
    switch (use) {
      case 'target':
        return `\nWITH (DISTRIBUTION = HASH(${bracketIdent(table!.key[0]!)}), CLUSTERED COLUMNSTORE INDEX)`;
      case 'lease':
        return '\nWITH (DISTRIBUTION = REPLICATE, HEAP)';
      default:
        return '\nWITH (DISTRIBUTION = ROUND_ROBIN, HEAP)';
    }
  }

  /** The `CREDENTIAL` option of `COPY INTO`: the workspace's managed identity. */
  protected credentialOption(): string[] {
    return ["CREDENTIAL = (IDENTITY = 'Managed Identity')"];
  }

  private staging(table: TableDefinition): string {
    return `${this.schema}.${bracketIdent(`ferry_staging_${table.name}`)}`;
  }

  /** DDL in order; Synapse allows no DDL inside a user transaction, so each runs alone. */
  createStatements(tables: readonly TableDefinition[]): string[] {
    const statements = [
      this.createSchemaStatement(),
      this.createTableIfMissing(this.manifest, this.manifestColumns(), this.tableOptions('manifest')),
      this.createTableIfMissing(this.failures, this.failureColumns(), this.tableOptions('manifest')),
      this.createTableIfMissing(this.quarantined, this.quarantineColumns(), this.tableOptions('manifest')),
      this.createTableIfMissing(this.collisions, this.collisionColumns(), this.tableOptions('manifest')),
      this.createTableIfMissing(
        this.leases,
        [`  [table_name] ${this.textType(128)} NOT NULL`, `  [run_id] ${this.textType(256)} NULL`, '  [expires_at] DATETIME2(3) NULL'],
        this.tableOptions('lease'),
      ),
    ];
    for (const table of tables) {
      statements.push(
        this.createTableIfMissing(this.target(table), this.columnDefinitions(table, false), this.tableOptions('target', table)),
        this.createTableIfMissing(this.staging(table), this.columnDefinitions(table, true), this.tableOptions('staging', table)),
        ...this.addMissingColumns(table),
        ...this.addMissingColumns({ ...table, name: `ferry_staging_${table.name}` }),
        `INSERT INTO ${this.leases} (table_name) SELECT N'${table.name}' WHERE NOT EXISTS (SELECT 1 FROM ${this.leases} WHERE table_name = N'${table.name}')`,
      );
    }
    return statements;
  }

  async ensureSchema(warehouse: Warehouse, tables: readonly TableDefinition[]): Promise<void> {
    for (const statement of this.createStatements(tables)) {
      try {
        await warehouse.query(statement);
      } catch (err) {
        // Two first runs at once: the other created it between our check and our CREATE.
        if ((err as { number?: unknown }).number !== objectExists) throw err;
      }
    }
    // No keys are declared here, so nothing to swap: rows loaded before a backfill column existed
    // get it filled (statement by statement, resumable: only rows still NULL are read).
    for (const table of tables) {
      if (!table.backfill) continue;
      const by = table.key.filter((k) => k !== table.backfill!.column);
      await backfill(warehouse, table, by, this.backfillSql(table, by));
    }
  }

  /** Takes the table's lease if free or expired: `@p1` run, `@p2` seconds, `@p3` table. */
  takeLease(): string {
    return `UPDATE ${this.leases} SET run_id = @p1, expires_at = DATEADD(second, @p2, SYSUTCDATETIME())
WHERE table_name = @p3 AND (run_id IS NULL OR expires_at < SYSUTCDATETIME())`;
  }

  /** Releases the lease if this run still holds it: `@p1` table, `@p2` run. */
  releaseLease(): string {
    return `UPDATE ${this.leases} SET run_id = NULL, expires_at = NULL WHERE table_name = @p1 AND run_id = @p2`;
  }

  async withTableLock<T>(warehouse: Warehouse, table: string, runId: string, fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T | typeof tableLocked> {
    const taken = await warehouse.transaction((tx) => tx.execute(this.takeLease(), [runId, this.leaseSeconds, table]));
    if (taken === 0) return tableLocked;
    try {
      return await warehouse.transaction(fn);
    } finally {
      await warehouse.transaction((tx) => tx.execute(this.releaseLease(), [table, runId]));
    }
  }

  /** `COPY INTO` the staging table from the files' blob URLs (literals: COPY INTO takes no parameters). */
  copyInto(table: TableDefinition, urls: readonly string[]): string {
    const options = [
      "FILE_TYPE = 'CSV'",
      ...this.credentialOption(),
      "COMPRESSION = 'GZIP'",
      `FIELDQUOTE = '"'`,
      "FIELDTERMINATOR = ','",
      // A bare \n would be read as \r\n; 0x0A is a lone LF.
      "ROWTERMINATOR = '0x0A'",
      "ENCODING = 'UTF8'",
      // Any other value drops bad rows silently instead of failing the batch.
      'MAXERRORS = 0',
    ];
    return `COPY INTO ${this.staging(table)} (${this.columnList(table)})
FROM ${urls.map((u) => stringLiteral(u)).join(',\n  ')}
WITH (
${options.map((o) => `  ${o}`).join(',\n')}
)`;
  }

  async loadBatch(batch: BatchInput): Promise<BatchCopied> {
    const { tx, table } = batch;
    const staging = this.staging(table);
    // The staging table is the lease holder's alone; a failed run may have left rows in it.
    await tx.query(`DELETE FROM ${staging}`);
    let copied: Pick<BatchCopied, 'perFile' | 'total'>;
    if (batch.storedCsv) {
      if (!batch.store.locate) {
        throw new ConfigError([{ key: 'FERRY_AZURE_STORAGE_CONNECTION_STRING', reason: 'Synapse loads its files from Blob Storage; the store must be an Azure container' }]);
      }
      const locate = batch.store.locate.bind(batch.store);
      await tx.query(this.copyInto(table, batch.files.map((f) => locate(f.key))));
      // The staging table was empty, so its count is what COPY INTO loaded.
      const [count] = await tx.query<{ copied: unknown }>(`SELECT COUNT_BIG(*) AS copied FROM ${staging}`);
      copied = { total: numberOf(count?.copied) };
    } else {
      const perFile = await insertFilesFromClient(batch, 100, this.insertRecords(staging, table));
      copied = { perFile, total: perFile.reduce((a, b) => a + b, 0) };
    }
    const collisions = await this.countCollisions(tx, table, staging);
    const inserted = await tx.execute(this.insertNewRows(table, staging));
    await tx.query(`DELETE FROM ${staging}`);
    return { ...copied, inserted, ...(collisions ? { collisions } : {}) };
  }
}
