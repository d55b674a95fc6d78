import { TransformDialect, type DependentView, type Existing, type ModelNames, type Phase, type Step } from './transform-dialect.js';

/**
 * PostgreSQL and the embedded PGlite (and, through `RedshiftTransform`, Redshift's variant). DDL
 * is transactional, so a rebuild fills a new table and swaps it in within one transaction:
 * readers see the old table until the commit, then the new one. PostgreSQL views bind to the
 * table itself, so replacing a table drops the views reading it (CASCADE); they are re-created in
 * the same transaction, each under a savepoint so a broken view cannot block its table.
 */
export class PostgresTransform extends TransformDialect {
  override readonly viewsBindToTables: boolean = true;

  constructor(ferrySchema: string, modelsSchema: string, kind: 'postgres' | 'redshift' = 'postgres') {
    super(kind, ferrySchema, modelsSchema);
  }

  protected dropExisting(target: string, existing: Existing): Step[] {
    if (existing === 'table') return [{ sql: `DROP TABLE IF EXISTS ${target} CASCADE` }];
    if (existing === 'view') return [{ sql: `DROP VIEW IF EXISTS ${target} CASCADE` }];
    return [];
  }

  protected recreateViews(dependents: readonly DependentView[]): Step[] {
    return dependents.map((v) => ({ sql: `CREATE OR REPLACE VIEW ${this.relation(v.name)} AS\n${v.select}`, optional: true }));
  }

  replaceWithTable(model: ModelNames, select: string, existing: Existing, dependents: readonly DependentView[]): Phase[] {
    const target = this.relation(model.name, model.schema);
    const fresh = this.relation(this.newName(model.name), model.schema);
    return [
      {
        transactional: true,
        steps: [
          { sql: `DROP TABLE IF EXISTS ${fresh}` },
          { sql: `CREATE TABLE ${fresh} AS\n${select}`, rows: true },
          ...this.dropExisting(target, existing),
          { sql: `ALTER TABLE ${fresh} RENAME TO ${this.q(model.name)}` },
          ...this.recreateViews(dependents),
        ],
      },
    ];
  }

  replaceWithView(model: ModelNames, select: string, existing: Existing, dependents: readonly DependentView[]): Phase[] {
    const target = this.relation(model.name, model.schema);
    return [{ transactional: true, steps: [...this.dropExisting(target, existing), { sql: `CREATE VIEW ${target} AS\n${select}` }, ...this.recreateViews(dependents)] }];
  }

  scratchRelation(model: string, index: number): string {
    return this.q(this.scratchName(model, index));
  }

  createScratch(model: string, index: number, source: string): Step[] {
    return [{ sql: `CREATE TEMP TABLE ${this.scratchRelation(model, index)} ON COMMIT DROP AS\n${this.changedRows(model, source)}` }];
  }

  // ON COMMIT DROP: the scratch table goes with the transaction.
  dropScratch(_model: string, _index: number): Step[] {
    return [];
  }
}

/**
 * Amazon Redshift: PostgreSQL's transactional swap, views created `WITH NO SCHEMA BINDING` (late
 * binding: they name their tables, so a swap never drops them), temporary tables dropped by hand
 * (they live as long as the pooled session), and `GETDATE()` as the UTC clock. No TRUNCATE: it
 * would commit the transaction half way.
 */
export class RedshiftTransform extends PostgresTransform {
  override readonly viewsBindToTables = false;

  constructor(ferrySchema: string, modelsSchema: string) {
    super(ferrySchema, modelsSchema, 'redshift');
  }

  protected override dropExisting(target: string, existing: Existing): Step[] {
    if (existing === 'table') return [{ sql: `DROP TABLE ${target}` }];
    if (existing === 'view') return [{ sql: `DROP VIEW ${target}` }];
    return [];
  }

  override loadedSince(days: number): string {
    return `DATEADD(day, -${Math.trunc(days)}, GETDATE())`;
  }

  // Late-binding views may be missing from information_schema, so a view is dropped if it exists
  // whatever the catalog said.
  override replaceWithView(model: ModelNames, select: string, existing: Existing): Phase[] {
    const target = this.relation(model.name, model.schema);
    const drop = existing === 'table' ? this.dropExisting(target, existing) : [{ sql: `DROP VIEW IF EXISTS ${target}` }];
    return [{ transactional: true, steps: [...drop, { sql: `CREATE VIEW ${target} AS\n${select}\nWITH NO SCHEMA BINDING` }] }];
  }

  override createScratch(model: string, index: number, source: string): Step[] {
    return [...this.dropScratch(model, index), { sql: `CREATE TEMP TABLE ${this.scratchRelation(model, index)} AS\n${this.changedRows(model, source)}` }];
  }

  override dropScratch(model: string, index: number): Step[] {
    return [{ sql: `DROP TABLE IF EXISTS ${this.scratchRelation(model, index)}` }];
  }
}
