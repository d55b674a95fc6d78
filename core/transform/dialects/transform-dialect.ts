import { bookkeepingSql, type BookkeepingSql } from '../../runs/bookkeeping-sql.js';
import type { WarehouseKind } from '../../loader/load-dialect.js';
import { checkIdentifier } from '../../loader/sql-text.js';
import type { CheckSpec } from '../model-files.js';
import type { RenderTarget } from '../template.js';

/** One statement of a plan; `optional` ones may fail without failing the model (run under a savepoint). */
export interface Step {
  sql: string;
  optional?: boolean;
  /** Its row count is the rows the model got (the CTAS, the partitions' INSERT). */
  rows?: boolean;
}

/** Statements run in order; a transactional phase commits or rolls back whole. */
export interface Phase {
  transactional: boolean;
  steps: Step[];
}

/** What already exists under a model's name. */
export type Existing = 'table' | 'view' | undefined;

/** A view to re-create inside a replacement that drops it (PostgreSQL views bind to their tables). */
export interface DependentView {
  name: string;
  select: string;
}

/** The names Ferry uses around one model. */
export interface ModelNames {
  schema: string;
  name: string;
}

/** Bookkeeping tables of the transforms, in `FERRY_WAREHOUSE_SCHEMA`. */
export interface TransformTables {
  state: string;
  inputs: string;
  changes: string;
  lease: string;
  manifest: string;
  sourceCounts: string;
}

/** Rows a check query returns: `failures` (0 passes), or per day `ferry_day`/`ferry_volume`. */
export const checkColumns = { failures: 'failures', day: 'ferry_day', volume: 'ferry_volume' } as const;

/**
 * How one warehouse materializes models: a table rebuilt into a new table and swapped in, a view
 * replaced, an incremental model's touched date partitions deleted and re-inserted; plus the
 * transforms' bookkeeping SQL and the checks. Names are validated identifiers; the few values in
 * statements (model names, dates, check values) are escaped literals, so a plan is plain SQL.
 */
export abstract class TransformDialect {
  readonly sql: BookkeepingSql;
  readonly tables: TransformTables;
  /** Whether replacing a relation drops the views reading it (then they are re-created with it). */
  readonly viewsBindToTables: boolean = false;

  constructor(
    readonly kind: WarehouseKind,
    /** `FERRY_WAREHOUSE_SCHEMA`: Ferry's tables and the bookkeeping. */
    readonly ferrySchema: string,
    /** `FERRY_MODELS_SCHEMA`: where models are built. */
    readonly modelsSchema: string,
  ) {
    this.sql = bookkeepingSql(kind);
    checkIdentifier(ferrySchema, 'FERRY_WAREHOUSE_SCHEMA');
    checkIdentifier(modelsSchema, 'FERRY_MODELS_SCHEMA');
    const t = (name: string) => this.sql.qualified(ferrySchema, name);
    this.tables = {
      state: t('transform_state'),
      inputs: t('transform_inputs'),
      changes: t('transform_changes'),
      lease: t('transform_lease'),
      manifest: t('load_manifest'),
      sourceCounts: t('source_counts'),
    };
  }

  /** What a model's template renders against. */
  renderTarget(): RenderTarget {
    return { family: this.sql.family, kind: this.kind, quote: (n) => this.sql.quote(n), modelsSchema: this.modelsSchema, sourceSchema: this.ferrySchema };
  }

  q(name: string): string {
    return this.sql.quote(name);
  }

  relation(name: string, schema = this.modelsSchema): string {
    return this.sql.qualified(schema, name);
  }

  /** The table a rebuild fills before it is swapped in. */
  protected newName(model: string): string {
    return `${model}__ferry_new`;
  }

  // ---- bookkeeping -------------------------------------------------------------------------

  /** Schemas and bookkeeping tables, created when missing. */
  createStatements(): string[] {
    const s = this.sql;
    const { state, inputs, changes, lease } = this.tables;
    return [
      s.createSchema(this.ferrySchema),
      s.createSchema(this.modelsSchema),
      s.createTable(state, [`model ${s.text(128)} NOT NULL`, `version ${s.text(128)} NOT NULL`, `template_hash ${s.text(128)} NOT NULL`, `refs_version ${s.text(128)} NOT NULL`, `built_at ${s.timestamp} NOT NULL`]),
      s.createTable(inputs, [`model ${s.text(128)} NOT NULL`, `file_key ${s.text(800)} NOT NULL`, `consumed_at ${s.timestamp} NOT NULL`]),
      s.createTable(changes, [`model ${s.text(128)} NOT NULL`, `table_name ${s.text(128)} NOT NULL`, `file_key ${s.text(800)} NOT NULL`, `source_key ${s.text(1024)} NULL`]),
      s.createTable(lease, [`name ${s.text(64)} NOT NULL`, `run_id ${s.text(256)} NULL`, `expires_at ${s.timestamp} NULL`]),
      `INSERT INTO ${lease} (name) SELECT ${s.literal('transform')} WHERE NOT EXISTS (SELECT 1 FROM ${lease} WHERE name = ${s.literal('transform')})`,
    ];
  }

  /** Takes the transform lease if free or expired: `p1` run id, `p2` seconds. One row changed = taken. */
  takeLease(): string {
    const s = this.sql;
    return `UPDATE ${this.tables.lease} SET run_id = ${s.param(1)}, expires_at = ${s.nowPlusSeconds(s.param(2))}
WHERE name = ${s.literal('transform')} AND (run_id IS NULL OR expires_at < ${s.now})`;
  }

  /** Extends the lease this run holds: `p1` run id, `p2` seconds. */
  renewLease(): string {
    const s = this.sql;
    return `UPDATE ${this.tables.lease} SET expires_at = ${s.nowPlusSeconds(s.param(2))} WHERE name = ${s.literal('transform')} AND run_id = ${s.param(1)}`;
  }

  /** Releases the lease if this run still holds it: `p1` run id. */
  releaseLease(): string {
    const s = this.sql;
    return `UPDATE ${this.tables.lease} SET run_id = NULL, expires_at = NULL WHERE name = ${s.literal('transform')} AND run_id = ${s.param(1)}`;
  }

  /** Relations in Ferry's and the models' schemas: `table_schema`, `table_name`, `table_type`. */
  catalog(): string {
    return `SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN (${this.sql.literal(this.ferrySchema)}, ${this.sql.literal(this.modelsSchema)})`;
  }

  /** Files and latest load per loaded table: a source's version. */
  sourceVersions(): string {
    return `SELECT table_name, COUNT(*) AS files, MAX(loaded_at) AS last_loaded_at FROM ${this.tables.manifest} GROUP BY table_name`;
  }

  /** Every model's state. */
  readState(): string {
    return `SELECT model, version, template_hash, refs_version, built_at FROM ${this.tables.state}`;
  }

  /** Replaces a model's state row; `builtAt` is the run's time (`YYYY-MM-DD HH:MM:SS.mmm`). */
  writeState(model: string, version: string, templateHash: string, refsVersion: string, builtAt: string): Step[] {
    const s = this.sql;
    return [
      { sql: `DELETE FROM ${this.tables.state} WHERE model = ${s.literal(model)}` },
      {
        sql: `INSERT INTO ${this.tables.state} (model, version, template_hash, refs_version, built_at)\nSELECT ${[model, version, templateHash, refsVersion, builtAt].map((v) => s.literal(v)).join(', ')}`,
      },
    ];
  }

  /** Marks a model to be rebuilt at its next run (its checks failed). */
  invalidateState(model: string): string {
    return `UPDATE ${this.tables.state} SET version = ${this.sql.literal('checks-failed')} WHERE model = ${this.sql.literal(model)}`;
  }

  /**
   * The oldest load time (the manifest's `loaded_at`, the warehouse's clock) of the files an
   * incremental model still compares: `days` before now.
   */
  loadedSince(days: number): string {
    return `now() - interval '${Math.trunc(days)} days'`;
  }

  /** Forgets consumed input files older than `days`. */
  pruneInputs(days: number): string {
    return `DELETE FROM ${this.tables.inputs} WHERE consumed_at < ${this.sql.nowMinusDays(days)}`;
  }

  // ---- SQL fragments a dialect spells differently ---------------------------------------------

  /** `summaries/<date>/<name>.json` of a parsed file `m.file_key` (`parsed/<table>/<date>/<name>.csv.gz`). */
  protected summaryKeyOf(): string {
    return `'summaries/' || SUBSTRING(m.file_key, LENGTH(m.table_name) + 9, LENGTH(m.file_key) - LENGTH(m.table_name) - 15) || '.json'`;
  }

  protected tableList(names: readonly string[]): string {
    return names.map((n) => this.sql.literal(checkIdentifier(n))).join(', ');
  }

  // ---- incremental inputs ---------------------------------------------------------------------

  /**
   * Records in `transform_changes` the files of `sources` loaded since `since` (an expression,
   * `loadedSince`) that the model has
   * not consumed, each with the input key its rows carry (from the parse summary of the same
   * input; a file whose summary is not loaded yet gets none and waits for a later run).
   */
  recordChanges(model: string, sources: readonly string[], since: string): Step[] {
    const s = this.sql;
    const m = s.literal(model);
    return [
      { sql: `DELETE FROM ${this.tables.changes} WHERE model = ${m}` },
      {
        sql: `INSERT INTO ${this.tables.changes} (model, table_name, file_key, source_key)
SELECT ${m}, m.table_name, m.file_key, c.source_key
FROM ${this.tables.manifest} m
LEFT JOIN ${this.tables.sourceCounts} c ON c.summary_key = CASE WHEN m.table_name = ${s.literal('source_counts')} THEN m.file_key ELSE ${this.summaryKeyOf()} END
WHERE m.table_name IN (${this.tableList(sources)}) AND m.loaded_at > ${since}
  AND NOT EXISTS (SELECT 1 FROM ${this.tables.inputs} i WHERE i.model = ${m} AND i.file_key = m.file_key)`,
      },
    ];
  }

  /** Marks the recorded changes with a known input as consumed, then clears them. */
  consumeChanges(model: string): Step[] {
    const s = this.sql;
    const m = s.literal(model);
    return [
      {
        sql: `INSERT INTO ${this.tables.inputs} (model, file_key, consumed_at)
SELECT model, file_key, ${s.now} FROM ${this.tables.changes} WHERE model = ${m} AND (source_key IS NOT NULL OR table_name = ${s.literal('source_counts')})`,
      },
      { sql: `DELETE FROM ${this.tables.changes} WHERE model = ${m}` },
    ];
  }

  /** A full build consumes every file of its sources loaded since `since`, before it reads them. */
  consumeAll(model: string, sources: readonly string[], since: string): Step[] {
    const s = this.sql;
    const m = s.literal(model);
    return [
      {
        sql: `INSERT INTO ${this.tables.inputs} (model, file_key, consumed_at)
SELECT ${m}, m.file_key, ${s.now} FROM ${this.tables.manifest} m
WHERE m.table_name IN (${this.tableList(sources)}) AND m.loaded_at > ${since}
  AND NOT EXISTS (SELECT 1 FROM ${this.tables.inputs} i WHERE i.model = ${m} AND i.file_key = m.file_key)`,
      },
    ];
  }

  /** The name a scratch table of a source's changed rows gets (`index` tells a model's sources apart). */
  scratchName(model: string, index: number): string {
    return `${model}__ferry_chg${index}`;
  }

  /** How the model's template refers to the scratch table. */
  abstract scratchRelation(model: string, index: number): string;

  /** The rows of `source` the recorded changes name. */
  protected changedRows(model: string, source: string): string {
    const s = this.sql;
    const byKey = source === 'source_counts' ? ['summary_key', 'file_key'] : ['source_key', 'source_key'];
    return `SELECT * FROM ${this.relation(source, this.ferrySchema)} WHERE ${this.q(byKey[0]!)} IN (SELECT ${byKey[1]} FROM ${this.tables.changes} WHERE model = ${s.literal(model)} AND table_name = ${s.literal(source)})`;
  }

  /** Creates the scratch table of one source's changed rows. */
  abstract createScratch(model: string, index: number, source: string): Step[];

  abstract dropScratch(model: string, index: number): Step[];

  /** The distinct partition values of the model's output over the changed rows. */
  touchedPartitions(select: string, partitionBy: string): string {
    return `SELECT DISTINCT ferry_model.${this.q(partitionBy)} AS ${this.q('ferry_partition')} FROM (\n${select}\n) AS ferry_model`;
  }

  /** `col IN (…)`, plus `OR col IS NULL` when a NULL partition was touched. */
  protected partitionPredicate(column: string, values: readonly (string | null)[]): string {
    const listed = values.filter((v): v is string => v !== null);
    const parts = [];
    if (listed.length > 0) parts.push(`${column} IN (${listed.map((v) => this.sql.literal(v)).join(', ')})`);
    if (listed.length < values.length) parts.push(`${column} IS NULL`);
    return parts.length > 1 ? `(${parts.join(' OR ')})` : parts[0]!;
  }

  /** Deletes the touched partitions and inserts them again from the model's full SELECT. */
  replacePartitions(model: ModelNames, select: string, partitionBy: string, values: readonly (string | null)[]): Step[] {
    const target = this.relation(model.name, model.schema);
    return [
      { sql: `DELETE FROM ${target} WHERE ${this.partitionPredicate(this.q(partitionBy), values)}` },
      { sql: `INSERT INTO ${target}\nSELECT * FROM (\n${select}\n) AS ferry_model\nWHERE ${this.partitionPredicate(`ferry_model.${this.q(partitionBy)}`, values)}`, rows: true },
    ];
  }

  // ---- materializations -----------------------------------------------------------------------

  /** Builds the model's SELECT into a new table and swaps it in for what exists under its name. */
  abstract replaceWithTable(model: ModelNames, select: string, existing: Existing, dependents: readonly DependentView[]): Phase[];

  /** Replaces what exists under the model's name with a view of its SELECT. */
  abstract replaceWithView(model: ModelNames, select: string, existing: Existing, dependents: readonly DependentView[]): Phase[];

  // ---- checks -------------------------------------------------------------------------------

  /** A query counting the rows that fail `check` (`failures`), or the daily volumes for the anomaly rule. */
  checkQuery(check: CheckSpec, model: ModelNames, days?: { from: string; to: string }): string {
    const t = this.relation(model.name, model.schema);
    const f = this.q(checkColumns.failures);
    switch (check.kind) {
      case 'not_null':
        return `SELECT COUNT(*) AS ${f} FROM ${t} WHERE ${this.q(check.column)} IS NULL`;
      case 'unique': {
        const cols = check.columns.map((c) => this.q(c)).join(', ');
        return `SELECT COUNT(*) AS ${f} FROM (SELECT ${cols} FROM ${t} GROUP BY ${cols} HAVING COUNT(*) > 1) AS ferry_duplicates`;
      }
      case 'accepted_values':
        return `SELECT COUNT(*) AS ${f} FROM ${t} WHERE ${this.q(check.column)} IS NOT NULL AND ${this.q(check.column)} NOT IN (${check.values.map((v) => this.sql.literal(v)).join(', ')})`;
      case 'row_count_anomaly': {
        const d = this.q(check.dateColumn);
        return `SELECT ${d} AS ${this.q(checkColumns.day)}, ${check.measure} AS ${this.q(checkColumns.volume)} FROM ${t}
WHERE ${d} >= ${this.sql.literal(days!.from)} AND ${d} <= ${this.sql.literal(days!.to)} GROUP BY ${d}`;
      }
    }
  }
}
