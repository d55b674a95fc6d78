import type { LoadResult } from '../loader/load-run.js';
import type { LoadStatus } from '../loader/load-status.js';
import type { ParseBacklog } from '../parser/parse-backlog.js';
import type { ParseSummary } from '../parser/parse-summary.js';
import type { BlobBody, BlobMetadata, BlobStore } from '../ports/blob-store.js';
import type { Metrics } from '../ports/metrics.js';
import type { TransformResult } from '../transform/run-transforms.js';

/** `store` with each put timed into `ferry_collector_put_seconds` (the collector's store). */
export function timedPuts(store: BlobStore, metrics: Metrics, now: () => number = () => performance.now()): BlobStore {
  return {
    put: async (key: string, body: BlobBody, metadata?: BlobMetadata) => {
      const started = now();
      try {
        return await store.put(key, body, metadata);
      } finally {
        metrics.observe('ferry_collector_put_seconds', (now() - started) / 1000);
      }
    },
    get: (key, options) => store.get(key, options),
    head: (key) => store.head(key),
    list: (prefix, options) => store.list(prefix, options),
    delete: (key) => store.delete(key),
    ...(store.locate ? { locate: (key: string) => store.locate!(key) } : {}),
    ...(store.parallelPuts !== undefined ? { parallelPuts: store.parallelPuts } : {}),
  };
}

/** Counts one input's parse from its summary: lines by outcome, per source, and its duration. */
export function recordParse(metrics: Metrics, summary: ParseSummary, seconds: number): void {
  const source = { source: summary.source };
  metrics.count('ferry_parser_inputs_total', source);
  metrics.count('ferry_parser_lines_total', source, summary.lines);
  metrics.count('ferry_parser_lines_by_outcome_total', { ...source, outcome: 'accepted' }, summary.accepted);
  metrics.count('ferry_parser_lines_by_outcome_total', { ...source, outcome: 'ignored' }, summary.ignored);
  metrics.count('ferry_parser_lines_by_outcome_total', { ...source, outcome: 'rejected' }, summary.rejected);
  metrics.observe('ferry_parser_parse_seconds', seconds, source);
}

/** Counts one load tick: files, rows copied and inserted, quarantined files and failures per table. */
export function recordLoad(metrics: Metrics, result: LoadResult, seconds: number): void {
  for (const t of result.tables) {
    const table = { table: t.table };
    metrics.count('ferry_loader_files_total', table, t.files);
    metrics.count('ferry_loader_rows_total', { ...table, step: 'copied' }, t.rowsCopied);
    metrics.count('ferry_loader_rows_total', { ...table, step: 'inserted' }, t.rowsInserted);
    if (t.quarantined?.length) metrics.count('ferry_loader_quarantined_total', table, t.quarantined.length);
    if (t.error) metrics.count('ferry_loader_failures_total', table);
  }
  metrics.observe('ferry_loader_tick_seconds', seconds);
}

/** Counts one transform run: its due models by outcome, their checks by result, and its duration. */
export function recordTransforms(metrics: Metrics, result: TransformResult, seconds: number): void {
  const outcomes = new Map<string, number>();
  const checks = { pass: 0, fail: 0 };
  for (const m of result.models) {
    outcomes.set(m.outcome, (outcomes.get(m.outcome) ?? 0) + 1);
    for (const c of m.checks ?? []) checks[c.passed ? 'pass' : 'fail']++;
  }
  for (const [outcome, n] of outcomes) metrics.count('ferry_transform_models_total', { outcome }, n);
  for (const [result, n] of Object.entries(checks)) if (n > 0) metrics.count('ferry_transform_checks_total', { result }, n);
  metrics.observe('ferry_transform_run_seconds', seconds);
}

/** Sets the backlog gauges: unparsed inputs per prefix, unloaded files per table, and their oldest ages. */
export function recordBacklogs(metrics: Metrics, parse: ParseBacklog, load: Pick<LoadStatus, 'unloaded' | 'tables'>): void {
  for (const p of parse.prefixes) {
    metrics.set('ferry_parser_backlog_inputs', p.count, { prefix: p.prefix });
    metrics.set('ferry_parser_backlog_oldest_seconds', p.oldest_age_s ?? 0, { prefix: p.prefix });
  }
  for (const t of load.tables) {
    const files = load.unloaded.filter((u) => u.table === t.table);
    metrics.set('ferry_loader_unloaded_files', files.length, { table: t.table });
    metrics.set('ferry_loader_unloaded_oldest_seconds', files.reduce((max, u) => Math.max(max, u.age_s), 0), { table: t.table });
  }
}
