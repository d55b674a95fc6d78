import type { WarehouseKind } from '../loader/load-dialect.js';
import type { Logger } from '../ports/logger.js';
import type { Row, Warehouse } from '../ports/warehouse.js';
import { errorFields } from '../support/json-logger.js';
import { bookkeepingSql, type BookkeepingSql } from './bookkeeping-sql.js';

/** Which stage a run record describes. */
export type RunStage = 'load' | 'parse_sweep' | 'transform' | 'check';

/** How a stage run ended: `skipped` when it did not start (locked, an upstream model failed). */
export type RunStatus = 'success' | 'failed' | 'skipped';

/** One row of `ferry.runs`: one attempt of one stage on one target. */
export interface RunRecord {
  runId: string;
  stage: RunStage;
  /** The table loaded, the model built, `<model>.<check>`, or the sweep's prefix set. */
  target: string;
  /** 1 for a first attempt; a model failing again the same day counts up. */
  attempt: number;
  startedAt: Date;
  finishedAt: Date;
  status: RunStatus;
  rows?: number | null;
  error?: string | null;
  /** What helps an operator act: the failing SQL, the file keys of a rolled-back batch. */
  logExcerpt?: string | null;
}

/** Longest error or log excerpt kept in a record. */
export const excerptChars = 4000;

/** A timestamp as `YYYY-MM-DD HH:MM:SS.mmm` (UTC), which every warehouse reads as a plain timestamp. */
export function sqlTimestamp(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '');
}

/** Reads a timestamp column back (drivers return text or a Date) as a Date in UTC. */
export function timestampOf(value: unknown): Date {
  if (value instanceof Date) return value;
  const text = String(value).trim().replace(' ', 'T');
  // PostgreSQL writes a whole-hour offset as `+00`, which Date does not read.
  if (/[+-]\d\d$/.test(text)) return new Date(`${text}:00`);
  return new Date(/[Zz]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
}

function clip(text: string | null | undefined): string | null {
  if (text === undefined || text === null) return null;
  return text.length > excerptChars ? `${text.slice(0, excerptChars - 1)}…` : text;
}

/**
 * The SQL of `ferry.runs` for one warehouse: every stage run (load per table, the parse sweep,
 * each transform model and check) as one row, kept `FERRY_RUNS_RETENTION_DAYS`.
 */
export class RunRecordsSql {
  readonly table: string;
  constructor(
    readonly sql: BookkeepingSql,
    schema: string,
  ) {
    this.table = sql.qualified(schema, 'runs');
  }

  createStatements(schema: string): string[] {
    const s = this.sql;
    return [
      s.createSchema(schema),
      s.createTable(this.table, [
        `run_id ${s.text(256)} NOT NULL`,
        `stage ${s.text(32)} NOT NULL`,
        `target ${s.text(512)} NOT NULL`,
        `attempt ${s.integer} NOT NULL`,
        `started_at ${s.timestamp} NOT NULL`,
        `finished_at ${s.timestamp} NOT NULL`,
        `status ${s.text(16)} NOT NULL`,
        `${s.quote('rows')} ${s.bigint} NULL`,
        `error ${s.text(excerptChars)} NULL`,
        `log_excerpt ${s.text(excerptChars)} NULL`,
      ]),
    ];
  }

  insert(records: readonly RunRecord[]): { sql: string; params: unknown[] } {
    const p = (i: number) => this.sql.param(i);
    const rows = records.map((_, r) => `(${Array.from({ length: 10 }, (_, c) => p(r * 10 + c + 1)).join(', ')})`);
    const params = records.flatMap((r) => [
      r.runId,
      r.stage,
      r.target,
      r.attempt,
      sqlTimestamp(r.startedAt),
      sqlTimestamp(r.finishedAt),
      r.status,
      r.rows ?? null,
      clip(r.error),
      clip(r.logExcerpt),
    ]);
    // Multi-row VALUES: every warehouse here takes it except Synapse, which gets one row a statement.
    return { sql: `INSERT INTO ${this.table} (run_id, stage, target, attempt, started_at, finished_at, status, ${this.sql.quote('rows')}, error, log_excerpt)\nVALUES ${rows.join(',\n  ')}`, params };
  }

  /** Deletes records that started before `p1`. */
  prune(): string {
    return `DELETE FROM ${this.table} WHERE started_at < ${this.sql.param(1)}`;
  }

  /** One stage's records since `p2`: `p1` the stage. */
  since(): string {
    return `SELECT target, attempt, status, started_at, finished_at FROM ${this.table} WHERE stage = ${this.sql.param(1)} AND started_at >= ${this.sql.param(2)} ORDER BY started_at, target`;
  }
}

/** A record read back by `RunRecorder.since`. */
export interface RecordedRun {
  target: string;
  attempt: number;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date;
}

/** SQL Server's "There is already an object named …": a concurrent first run created it. */
const objectExists = 2714;

/**
 * Runs create-if-missing DDL: in one transaction under the DDL lock where the warehouse has one
 * and takes DDL in transactions, else statement by statement, tolerating a concurrent creator.
 */
export async function ensureTables(warehouse: Warehouse, sql: BookkeepingSql, schema: string, statements: readonly string[]): Promise<void> {
  const lock = sql.ddlLock(schema);
  if (lock && sql.transactionalDdl) {
    await warehouse.transaction(async (tx) => {
      await tx.query(lock);
      for (const statement of statements) await tx.query(statement);
    });
    return;
  }
  for (const statement of statements) {
    try {
      await warehouse.query(statement);
    } catch (err) {
      if ((err as { number?: unknown }).number !== objectExists) throw err;
    }
  }
}

// Tables already ensured per warehouse connection, so the DDL runs once per process.
const ensured = new WeakMap<Warehouse, Set<string>>();

/**
 * Writes run records. A record that cannot be written is logged, never fails the stage it
 * describes: the data the stage made matters more than its bookkeeping.
 */
export class RunRecorder {
  readonly sql: RunRecordsSql;

  constructor(
    private readonly warehouse: Warehouse,
    kind: WarehouseKind,
    private readonly schema: string,
    private readonly logger: Logger,
  ) {
    this.sql = new RunRecordsSql(bookkeepingSql(kind), schema);
  }

  /** Creates the schema and `runs` if missing (once per process and warehouse). */
  async ensure(): Promise<void> {
    const done = ensured.get(this.warehouse) ?? new Set<string>();
    if (done.has(this.schema)) return;
    await ensureTables(this.warehouse, this.sql.sql, this.schema, this.sql.createStatements(this.schema));
    done.add(this.schema);
    ensured.set(this.warehouse, done);
  }

  /** Writes `records`; a failure is logged and swallowed. */
  async write(...records: RunRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.ensure();
      // 10 parameters a record: 100 a statement stays under SQL Server's 2,100; Synapse takes one a VALUES.
      const size = this.sql.sql.kind === 'synapse' ? 1 : 100;
      const batches = Array.from({ length: Math.ceil(records.length / size) }, (_, i) => records.slice(i * size, (i + 1) * size));
      for (const batch of batches) {
        const { sql, params } = this.sql.insert(batch);
        await this.warehouse.query(sql, params);
      }
    } catch (err) {
      this.logger.warn('could not write run records', { records: records.map((r) => `${r.stage}:${r.target}`), ...errorFields(err) });
    }
  }

  /** Deletes records older than `days` before `now`. */
  async prune(now: Date, days: number): Promise<void> {
    try {
      await this.ensure();
      await this.warehouse.query(this.sql.prune(), [sqlTimestamp(new Date(now.getTime() - days * 86_400_000))]);
    } catch (err) {
      this.logger.warn('could not prune run records', errorFields(err));
    }
  }

  /** One stage's records that started at or after `from`, oldest first. */
  async since(stage: RunStage, from: Date): Promise<RecordedRun[]> {
    await this.ensure();
    const rows = await this.warehouse.query<Row>(this.sql.since(), [stage, sqlTimestamp(from)]);
    return rows.map((r) => ({
      target: String(r.target),
      attempt: Number(r.attempt),
      status: String(r.status) as RunStatus,
      startedAt: timestampOf(r.started_at),
      finishedAt: timestampOf(r.finished_at),
    }));
  }

  /**
   * Runs `fn` as one stage run and records it: success with the rows `fn` reports, or failed
   * with the error (which is rethrown).
   */
  async recordStage<T>(run: { runId: string; stage: RunStage; target: string; now: () => Date }, fn: () => Promise<T>, rowsOf: (result: T) => number | null = () => null): Promise<T> {
    const startedAt = run.now();
    try {
      const result = await fn();
      await this.write({ runId: run.runId, stage: run.stage, target: run.target, attempt: 1, startedAt, finishedAt: run.now(), status: 'success', rows: rowsOf(result) });
      return result;
    } catch (err) {
      await this.write({ runId: run.runId, stage: run.stage, target: run.target, attempt: 1, startedAt, finishedAt: run.now(), status: 'failed', error: (err as Error).message });
      throw err;
    }
  }
}
