import type { LoadResult } from '../loader/load-run.js';
import type { RunRecord } from './run-records.js';

/** One record per table of a load run: rows inserted, the rolled-back batch's keys, or skipped (locked). */
export function loadRecords(result: LoadResult, startedAt: Date, finishedAt: Date): RunRecord[] {
  return result.tables.map((t) => ({
    runId: result.runId,
    stage: 'load',
    target: t.table,
    attempt: 1,
    startedAt,
    finishedAt,
    status: t.error ? 'failed' : t.skipped ? 'skipped' : 'success',
    rows: t.rowsInserted,
    error: t.error ? `${t.error.code}: ${t.error.message}` : t.skipped ? 'table locked by another run' : null,
    logExcerpt: t.error ? t.error.keys.join('\n') : null,
  }));
}

/** The record of one sweep for inputs whose notification was lost: how many it parsed, which. */
export function parseSweepRecord(runId: string, swept: { parsed: readonly string[]; more: boolean }, startedAt: Date, finishedAt: Date): RunRecord {
  return {
    runId,
    stage: 'parse_sweep',
    target: 'lost_notifications',
    attempt: 1,
    startedAt,
    finishedAt,
    status: 'success',
    rows: swept.parsed.length,
    error: null,
    logExcerpt: swept.parsed.length > 0 || swept.more ? `${swept.parsed.join('\n')}${swept.more ? '\n(more left for the next tick)' : ''}` : null,
  };
}
