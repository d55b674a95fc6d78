import type { Row, Warehouse } from '../ports/warehouse.js';
import { checkColumns, type TransformDialect } from './dialects/transform-dialect.js';
import { partitionValue } from './materialize.js';
import { checkName, type CheckSpec } from './model-files.js';
import type { Model } from './project.js';
import { anomalyHistoryDays, daysBefore, volumeVerdict, type VolumeVerdict } from './volume-anomaly.js';

/** One check's outcome on a freshly built model. */
export interface CheckResult {
  check: string;
  passed: boolean;
  /** Failing rows; for the volume rule, the day's volume. */
  rows: number | null;
  /** Why it failed (or the volume rule's figures). */
  message: string | null;
  sql: string;
}

function describe(verdict: VolumeVerdict, day: string): string {
  if (verdict.status === 'not_enough_history') return `${day}: ${verdict.volume}; only ${verdict.historyDays} of the previous ${anomalyHistoryDays} days have data (5 needed), not judged`;
  const range = `${verdict.low!.toFixed(1)}–${verdict.high!.toFixed(1)} (0.9×–1.15× the median ${verdict.median} of the previous ${verdict.historyDays} days)`;
  return `${day}: ${verdict.volume} is ${verdict.status === 'pass' ? 'within' : 'outside'} ${range}`;
}

async function runCheck(warehouse: Warehouse, dialect: TransformDialect, model: Model, check: CheckSpec, runDate: string): Promise<CheckResult> {
  const name = checkName(check);
  const target = { schema: dialect.modelsSchema, name: model.name };
  if (check.kind === 'row_count_anomaly') {
    // The last whole day before the run, against the seven days before it.
    const [day] = daysBefore(runDate, 1) as [string];
    const history = daysBefore(day, anomalyHistoryDays);
    const sql = dialect.checkQuery(check, target, { from: history[0]!, to: day });
    const volumes = new Map((await warehouse.query<Row>(sql)).map((r) => [partitionValue(r[checkColumns.day]), Number(r[checkColumns.volume] ?? 0)]));
    const verdict = volumeVerdict(volumes.get(day) ?? 0, history.filter((d) => volumes.has(d)).map((d) => volumes.get(d)!));
    return { check: name, passed: verdict.status !== 'fail', rows: verdict.volume, message: describe(verdict, day), sql };
  }
  const sql = dialect.checkQuery(check, target);
  const [row] = await warehouse.query<Row>(sql);
  const failures = Number(row?.[checkColumns.failures] ?? 0);
  return { check: name, passed: failures === 0, rows: failures, message: failures === 0 ? null : `${failures} ${failures === 1 ? 'row fails' : 'rows fail'} ${name}`, sql };
}

/** Runs every check of a model; a check whose query fails counts as failed, with the error. */
export async function runChecks(warehouse: Warehouse, dialect: TransformDialect, model: Model, runDate: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of model.checks) {
    try {
      results.push(await runCheck(warehouse, dialect, model, check, runDate));
    } catch (err) {
      results.push({ check: checkName(check), passed: false, rows: null, message: `the check's query failed: ${(err as Error).message}`, sql: '' });
    }
  }
  return results;
}
