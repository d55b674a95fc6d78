import type { LoadResult } from '../loader/load-run.js';
import type { Clock } from '../ports/clock.js';
import type { RunRecord, RunRecorder } from './run-records.js';

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

/**
 * Wraps a load tick's sweep for inputs whose notification was lost (or, locally, dropped into the
 * store) so that a sweep that found something is recorded; `target` names what it sweeps.
 */
export function recordedSweep<R extends { found: number }>(sweep: (now: Date) => Promise<R>, runs: () => RunRecorder, clock: Clock, target: string): (now: Date) => Promise<R> {
  return async (now) => {
    const startedAt = clock.now();
    const result = await sweep(now);
    if (result.found > 0) {
      await runs().write({ runId: `sweep-${startedAt.toISOString()}`, stage: 'parse_sweep', target, attempt: 1, startedAt, finishedAt: clock.now(), status: 'success', rows: result.found });
    }
    return result;
  };
}
