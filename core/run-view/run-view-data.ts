import type { LoadDialect, WarehouseKind } from '../loader/load-dialect.js';
import { loadStatus, type QuarantinedFile } from '../loader/load-status.js';
import { eventTable } from '../model/event-table.js';
import type { TableDefinition } from '../model/table-definition.js';
import { parseBacklog, type ParseBacklog } from '../parser/parse-backlog.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Row, Warehouse } from '../ports/warehouse.js';
import { bookkeepingSql } from '../runs/bookkeeping-sql.js';
import { RunRecordsSql, sqlTimestamp, timestampOf, type RunStage, type RunStatus } from '../runs/run-records.js';
import { anomalyBounds, daysBefore, volumeVerdict, type VolumeVerdict } from '../transform/volume-anomaly.js';

/** One stage run of the day, as the Gantt draws it. */
export interface RunBar {
  run_id: string;
  stage: RunStage;
  target: string;
  attempt: number;
  started_at: string;
  finished_at: string;
  status: RunStatus;
  rows: number | null;
  error: string | null;
  log_excerpt: string | null;
}

/** A failure an operator acts on: a failed stage run or a file the warehouse refused. */
export interface Failure {
  kind: 'run' | 'quarantined';
  at: string;
  /** `load:events`, `transform:daily_active`, or the quarantined file's table. */
  what: string;
  message: string;
  log_excerpt: string | null;
  keys: string[];
}

/** One source's figures for one day from `source_counts`, with the volume rule's verdict on accepted lines. */
export interface QualityDay {
  date: string;
  inputs: number;
  lines: number;
  accepted: number;
  ignored: number;
  rejected: number;
  verdict: VolumeVerdict['status'];
  median: number | null;
}

/** Events received in one UTC hour (`events.received_at`). */
export interface HourCount {
  /** The hour's start, `YYYY-MM-DDTHH:00:00.000Z`. */
  hour: string;
  events: number;
}

/** How recent a table's data is against the expectation. */
export interface Freshness {
  table: string;
  last_loaded_at: string | null;
  age_s: number | null;
  expected_s: number;
  stale: boolean;
}

/** Everything the run view shows for one day; the same object is the JSON of `/api/runs/<date>`. */
export interface RunViewData {
  date: string;
  generated_at: string;
  failures: Failure[];
  /** The day's stage runs that did something: failed, skipped, loaded rows, or any other stage than a load. */
  runs: RunBar[];
  /** Load runs of the day that succeeded with no row to load (the timer's empty ticks), counted, not listed. */
  idle_load_runs: number;
  backlog: {
    parse: ParseBacklog;
    unloaded: { table: string; files: number; oldest_age_s: number; oldest_key: string }[];
    pending: number;
  };
  quality: { source: string; days: QualityDay[] }[];
  /** Refused requests (by HTTP status) and rejected rows (status null) of the day by reason (`<schema>.rejections`). */
  rejections: { status: number | null; reason: string; requests: number }[];
  /** Events received per UTC hour of the day, every hour up to now (zeros included). */
  events_per_hour: HourCount[];
  freshness: Freshness[];
  volume_rule: string;
}

/** What the run view reads. Only queries: it never changes the warehouse or the store. */
export interface RunViewSources {
  store: BlobStore;
  warehouse: Warehouse;
  kind: WarehouseKind;
  schema: string;
  dialect: LoadDialect;
  tables: readonly TableDefinition[];
  /** Input prefixes the parser reads (the parse backlog lists them); none on a cloud host. */
  inputPrefixes: readonly string[];
  now: Date;
  /** A table whose last load is older than this many seconds is stale. */
  freshnessS: number;
  /** Days of `source_counts` in the data-quality table. */
  qualityDays?: number;
  /** Unloaded files younger than this count as pending (default 600 s, as `ferry status`). */
  olderThanS?: number;
}

async function tolerateMissing<T>(dialect: LoadDialect, query: () => Promise<T[]>): Promise<T[]> {
  try {
    return await query();
  } catch (err) {
    if (dialect.isMissingTable(err)) return [];
    throw err;
  }
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

async function runsOf(sources: RunViewSources, date: string): Promise<RunBar[]> {
  const records = new RunRecordsSql(bookkeepingSql(sources.kind), sources.schema);
  const s = records.sql;
  const from = new Date(`${date}T00:00:00Z`);
  const to = new Date(from.getTime() + 86_400_000);
  const sql = `SELECT run_id, stage, target, attempt, started_at, finished_at, status, ${s.quote('rows')} AS row_count, error, log_excerpt FROM ${records.table} WHERE started_at >= ${s.param(1)} AND started_at < ${s.param(2)} ORDER BY started_at, target`;
  const rows = await tolerateMissing(sources.dialect, () => sources.warehouse.query<Row>(sql, [sqlTimestamp(from), sqlTimestamp(to)]));
  return rows.map((r) => ({
    run_id: String(r.run_id),
    stage: String(r.stage) as RunStage,
    target: String(r.target),
    attempt: Number(r.attempt),
    started_at: timestampOf(r.started_at).toISOString(),
    finished_at: timestampOf(r.finished_at).toISOString(),
    status: String(r.status) as RunStatus,
    rows: r.row_count === null || r.row_count === undefined ? null : Number(r.row_count),
    error: text(r.error),
    log_excerpt: text(r.log_excerpt),
  }));
}

/** Per source and day: inputs, lines by outcome, and the volume rule on accepted lines against the 7 days before. */
async function qualityOf(sources: RunViewSources, date: string): Promise<RunViewData['quality']> {
  const s = bookkeepingSql(sources.kind);
  const days = sources.qualityDays ?? 28;
  const from = daysBefore(date, days + 7)[0]!;
  const q = (c: string) => s.quote(c);
  const sql = `SELECT source, ${q('date')} AS day, COUNT(*) AS inputs, SUM(${q('lines')}) AS line_count, SUM(accepted) AS accepted, SUM(ignored) AS ignored, SUM(rejected) AS rejected FROM ${s.qualified(sources.schema, 'source_counts')} WHERE ${q('date')} >= ${s.param(1)} AND ${q('date')} <= ${s.param(2)} GROUP BY source, ${q('date')}`;
  const rows = await tolerateMissing(sources.dialect, () => sources.warehouse.query<Row>(sql, [from, date]));
  const bySource = new Map<string, Map<string, Row>>();
  for (const r of rows) {
    const source = String(r.source);
    if (!bySource.has(source)) bySource.set(source, new Map());
    bySource.get(source)!.set(String(r.day).slice(0, 10), r);
  }
  const shown = [...daysBefore(date, days - 1), date];
  return [...bySource.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([source, byDay]) => ({
      source,
      days: shown
        .filter((day) => byDay.has(day))
        .map((day) => {
          const r = byDay.get(day)!;
          const history = daysBefore(day, 7).filter((d) => byDay.has(d)).map((d) => Number(byDay.get(d)!.accepted));
          const verdict = volumeVerdict(Number(r.accepted), history);
          return {
            date: day,
            inputs: Number(r.inputs),
            lines: Number(r.line_count),
            accepted: Number(r.accepted),
            ignored: Number(r.ignored),
            rejected: Number(r.rejected),
            verdict: verdict.status,
            median: verdict.median ?? null,
          };
        })
        .reverse(),
    }));
}

/** Refused requests and rejected rows of the day by status and reason, from `<schema>.rejections` when it exists. */
async function rejectionsOf(sources: RunViewSources, date: string): Promise<RunViewData['rejections']> {
  const s = bookkeepingSql(sources.kind);
  const from = new Date(`${date}T00:00:00Z`);
  const to = new Date(from.getTime() + 86_400_000);
  const sql = `SELECT status, reason, SUM(requests) AS requests FROM ${s.qualified(sources.schema, 'rejections')} WHERE ${s.quote('time')} >= ${s.param(1)} AND ${s.quote('time')} < ${s.param(2)} GROUP BY status, reason ORDER BY SUM(requests) DESC, reason`;
  const rows = await tolerateMissing(sources.dialect, () => sources.warehouse.query<Row>(sql, [sqlTimestamp(from), sqlTimestamp(to)]));
  return rows.map((r) => ({ status: r.status === null || r.status === undefined ? null : Number(r.status), reason: String(r.reason), requests: Number(r.requests) }));
}

/**
 * Events received per hour of `date`, counted in the warehouse over the day's `received_at`
 * range (indexed on every dialect: BRIN on PostgreSQL, the sort key on Redshift, an index on
 * the SQL Server family). Hours after `now` are left out; hours without events are zeros.
 */
async function eventsPerHour(sources: RunViewSources, date: string): Promise<HourCount[]> {
  const from = new Date(`${date}T00:00:00Z`);
  const hours = Math.min(24, Math.max(0, Math.floor((sources.now.getTime() - from.getTime()) / 3_600_000) + 1));
  if (hours === 0) return [];
  const counts = new Map<number, number>();
  if (sources.tables.some((t) => t.name === eventTable.name)) {
    const s = bookkeepingSql(sources.kind);
    const received = s.quote('received_at');
    const hour = s.family === 'tsql' ? `DATEPART(hour, ${received})` : `EXTRACT(HOUR FROM ${received})`;
    const sql = `SELECT ${hour} AS hour_of_day, COUNT(*) AS events FROM ${s.qualified(sources.schema, eventTable.name)} WHERE ${received} >= ${s.param(1)} AND ${received} < ${s.param(2)} GROUP BY ${hour}`;
    const rows = await tolerateMissing(sources.dialect, () => sources.warehouse.query<Row>(sql, [sqlTimestamp(from), sqlTimestamp(new Date(from.getTime() + 86_400_000))]));
    for (const r of rows) counts.set(Number(r.hour_of_day), Number(r.events));
  }
  return Array.from({ length: hours }, (_, h) => ({ hour: new Date(from.getTime() + h * 3_600_000).toISOString(), events: counts.get(h) ?? 0 }));
}

/** The run view of `date` (`YYYY-MM-DD`, UTC): failures first, the day's runs, backlogs, data quality, rejections and freshness. */
export async function runViewData(sources: RunViewSources, date: string): Promise<RunViewData> {
  const { now } = sources;
  const status = await loadStatus({ store: sources.store, warehouse: sources.warehouse, schema: sources.schema, dialect: sources.dialect, tables: sources.tables, now, olderThanS: sources.olderThanS ?? 600, days: 1 });
  const parse = await parseBacklog(sources.store, sources.inputPrefixes, now);
  const all = await runsOf(sources, date);
  const idle = (r: RunBar) => r.stage === 'load' && r.status === 'success' && !r.rows;
  const runs = all.filter((r) => !idle(r));
  const failures: Failure[] = [
    ...status.quarantined.map((q: QuarantinedFile): Failure => ({ kind: 'quarantined', at: q.quarantined_at, what: `quarantined in ${q.table}`, message: `${q.sqlstate ?? q.code}: ${q.message}`, log_excerpt: null, keys: [q.key] })),
    ...runs
      .filter((r) => r.status === 'failed')
      .map((r): Failure => ({ kind: 'run', at: r.started_at, what: `${r.stage}:${r.target} (attempt ${r.attempt})`, message: r.error ?? '', log_excerpt: r.log_excerpt, keys: r.stage === 'load' && r.log_excerpt ? r.log_excerpt.split('\n').filter((k) => k.length > 0) : [] })),
  ];
  const unloaded = new Map<string, { table: string; files: number; oldest_age_s: number; oldest_key: string }>();
  for (const u of status.unloaded) {
    const entry = unloaded.get(u.table) ?? { table: u.table, files: 0, oldest_age_s: -1, oldest_key: u.key };
    entry.files++;
    if (u.age_s > entry.oldest_age_s) Object.assign(entry, { oldest_age_s: u.age_s, oldest_key: u.key });
    unloaded.set(u.table, entry);
  }
  const freshness = status.tables
    .filter((t) => t.table !== 'source_counts')
    .map((t): Freshness => {
      const age = t.last_loaded_at ? Math.max(0, Math.round((now.getTime() - timestampOf(t.last_loaded_at).getTime()) / 1000)) : null;
      return { table: t.table, last_loaded_at: t.last_loaded_at ? timestampOf(t.last_loaded_at).toISOString() : null, age_s: age, expected_s: sources.freshnessS, stale: age === null || age > sources.freshnessS };
    });
  return {
    date,
    generated_at: now.toISOString(),
    failures,
    runs,
    idle_load_runs: all.length - runs.length,
    backlog: { parse, unloaded: [...unloaded.values()], pending: status.pending },
    quality: await qualityOf(sources, date),
    rejections: await rejectionsOf(sources, date),
    events_per_hour: await eventsPerHour(sources, date),
    freshness,
    volume_rule: `a day's accepted lines outside ${anomalyBounds.low}×–${anomalyBounds.high}× the median of the 7 days before (5 of them needed) is flagged`,
  };
}
