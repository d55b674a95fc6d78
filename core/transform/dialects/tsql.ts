import { TransformDialect, type Existing, type ModelNames, type Phase, type Step } from './transform-dialect.js';

/**
 * Azure SQL Database: DDL is transactional, so a rebuild `SELECT … INTO` a new table and swaps it
 * in with `sp_rename` inside one transaction. Views name their tables (no schema binding), so a
 * swap leaves them working. A model's SELECT is wrapped as a derived table, so in T-SQL it cannot
 * start with `WITH` or end with `ORDER BY` (derived tables allow neither).
 */
export class AzureSqlTransform extends TransformDialect {
  constructor(ferrySchema: string, modelsSchema: string, kind: 'azuresql' | 'synapse' | 'fabric' = 'azuresql') {
    super(kind, ferrySchema, modelsSchema);
  }

  protected dropIfExists(target: string, kind: 'table' | 'view'): Step {
    return { sql: `IF OBJECT_ID(${this.sql.literal(target)}, N'${kind === 'table' ? 'U' : 'V'}') IS NOT NULL DROP ${kind === 'table' ? 'TABLE' : 'VIEW'} ${target}` };
  }

  protected dropExisting(target: string, existing: Existing): Step[] {
    return existing ? [this.dropIfExists(target, existing)] : [];
  }

  /** `sp_rename` of a table within its schema. */
  protected rename(schema: string, from: string, to: string): Step {
    return { sql: `EXEC sp_rename ${this.sql.literal(`${schema}.${from}`)}, ${this.sql.literal(to)}` };
  }

  replaceWithTable(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    const fresh = this.relation(this.newName(model.name), model.schema);
    return [
      {
        transactional: true,
        steps: [
          this.dropIfExists(fresh, 'table'),
          { sql: `SELECT * INTO ${fresh} FROM (\n${select}\n) AS ferry_model`, rows: true },
          ...this.dropExisting(target, existing),
          this.rename(model.schema, this.newName(model.name), model.name),
        ],
      },
    ];
  }

  replaceWithView(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    // CREATE OR ALTER VIEW must open its batch: it is a statement of its own.
    return [{ transactional: true, steps: [...(existing === 'table' ? [this.dropIfExists(target, 'table')] : []), { sql: `CREATE OR ALTER VIEW ${target} AS\n${select}` }] }];
  }

  override loadedSince(days: number): string {
    return `DATEADD(day, -${Math.trunc(days)}, SYSUTCDATETIME())`;
  }

  override catalog(): string {
    return `SELECT TABLE_SCHEMA AS table_schema, TABLE_NAME AS table_name, TABLE_TYPE AS table_type FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA IN (${this.sql.literal(this.ferrySchema)}, ${this.sql.literal(this.modelsSchema)})`;
  }

  override sourceVersions(): string {
    return `SELECT table_name, COUNT_BIG(*) AS files, MAX(loaded_at) AS last_loaded_at FROM ${this.tables.manifest} GROUP BY table_name`;
  }

  protected override summaryKeyOf(): string {
    return `N'summaries/' + SUBSTRING(m.file_key, LEN(m.table_name) + 9, LEN(m.file_key) - LEN(m.table_name) - 15) + N'.json'`;
  }

  /** Scratch tables are real tables in the models schema, dropped after the run. */
  scratchRelation(model: string, index: number): string {
    return this.relation(this.scratchName(model, index));
  }


  createScratch(model: string, index: number, source: string): Step[] {
    const name = this.scratchRelation(model, index);
    return [this.dropIfExists(name, 'table'), { sql: this.createTableAs(name, this.changedRows(model, source), 'scratch') }];
  }

  dropScratch(model: string, index: number): Step[] {
    return [this.dropIfExists(this.scratchRelation(model, index), 'table')];
  }

  /** A table filled from a query. */
  protected createTableAs(name: string, select: string, _use: 'scratch' | 'model'): string {
    return `SELECT * INTO ${name} FROM (\n${select}\n) AS ferry_rows`;
  }
}

/**
 * Azure Synapse dedicated SQL pool: no DDL inside a user transaction, so a rebuild is a CTAS into
 * a new round-robin columnstore table, then `RENAME OBJECT` of the old table aside and the new one
 * into place, outside a transaction: between the two renames (metadata operations) the name
 * briefly does not exist, which Synapse's own CTAS-swap pattern accepts. Incremental runs delete
 * and insert the touched dates in one transaction (DML is transactional).
 */
export class SynapseTransform extends AzureSqlTransform {
  constructor(ferrySchema: string, modelsSchema: string) {
    super(ferrySchema, modelsSchema, 'synapse');
  }

  protected override createTableAs(name: string, select: string, use: 'scratch' | 'model'): string {
    const options = use === 'scratch' ? 'DISTRIBUTION = ROUND_ROBIN, HEAP' : 'DISTRIBUTION = ROUND_ROBIN, CLUSTERED COLUMNSTORE INDEX';
    return `CREATE TABLE ${name}\nWITH (${options})\nAS\n${select}`;
  }

  override replaceWithTable(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    const fresh = this.relation(this.newName(model.name), model.schema);
    const old = this.relation(`${model.name}__ferry_old`, model.schema);
    return [
      {
        transactional: false,
        steps: [
          this.dropIfExists(fresh, 'table'),
          this.dropIfExists(old, 'table'),
          { sql: this.createTableAs(fresh, select, 'model'), rows: true },
          ...(existing === 'table' ? [{ sql: `RENAME OBJECT ${target} TO ${this.q(`${model.name}__ferry_old`)}` }] : this.dropExisting(target, existing)),
          { sql: `RENAME OBJECT ${fresh} TO ${this.q(model.name)}` },
          this.dropIfExists(old, 'table'),
        ],
      },
    ];
  }

  override replaceWithView(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    return [{ transactional: false, steps: [...this.dropExisting(target, existing), { sql: `CREATE VIEW ${target} AS\n${select}` }] }];
  }
}

/**
 * Microsoft Fabric Warehouse: DDL is allowed in transactions (snapshot isolation), so the rebuild
 * is a CTAS into a new table swapped in with `sp_rename` in one transaction, as on Azure SQL; no
 * distribution options (storage is managed), and views dropped and re-created.
 */
export class FabricTransform extends AzureSqlTransform {
  constructor(ferrySchema: string, modelsSchema: string) {
    super(ferrySchema, modelsSchema, 'fabric');
  }

  protected override createTableAs(name: string, select: string): string {
    return `CREATE TABLE ${name} AS\n${select}`;
  }

  override replaceWithTable(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    const fresh = this.relation(this.newName(model.name), model.schema);
    return [
      {
        transactional: true,
        steps: [
          this.dropIfExists(fresh, 'table'),
          { sql: this.createTableAs(fresh, select), rows: true },
          ...this.dropExisting(target, existing),
          this.rename(model.schema, this.newName(model.name), model.name),
        ],
      },
    ];
  }

  override replaceWithView(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    return [{ transactional: true, steps: [...this.dropExisting(target, existing), { sql: `CREATE VIEW ${target} AS\n${select}` }] }];
  }
}
