import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import { recordTransforms } from '../metrics/stage-metrics.js';
import type { Warehouse } from '../ports/warehouse.js';
import { ensureTables, sqlTimestamp, type RunRecord, type RunRecorder } from '../runs/run-records.js';
import { errorFields } from '../support/json-logger.js';
import type { TransformDialect } from './dialects/transform-dialect.js';
import { buildModel, ModelRunError, type BuildOutcome } from './materialize.js';
import type { Model, Project } from './project.js';
import { runChecks, type CheckResult } from './run-checks.js';
import { attemptStates, modelVersions, nextAttemptAt, readSnapshot, type AttemptState, type WarehouseSnapshot } from './transform-state.js';

/** Days an incremental model remembers which loaded files it consumed; older state means a full build. */
export const inputMemoryDays = 7;

/** What a transform run needs. */
export interface TransformOptions {
  warehouse: Warehouse;
  dialect: TransformDialect;
  project: Project;
  runs: RunRecorder;
  logger: Logger;
  clock: Clock;
  runId: string;
  /** Attempts a failing model gets per UTC day (night-shift's maximum). */
  maxAttemptsPerDay: number;
  /** Wait after a model's first failure; it doubles with each further failure, up to an hour. */
  retryDelayMs: number;
  /** Models built at the same time, at most. */
  parallelism: number;
  /** Run records older than this many days are deleted. */
  runsRetentionDays: number;
  /** dbt-style selectors (`name`, `name+`, `+name`); none: every model. */
  select?: readonly string[];
  /** Rebuild the selected models whole, whether or not their inputs changed. */
  fullRefresh?: boolean;
  /** An operator's run (`ferry transform`): the backoff wait and the daily maximum do not apply. */
  manual?: boolean;
  /** Time left before the host stops this invocation; no model starts with less than `reserveMs`. */
  remainingMs?: () => number;
  reserveMs?: number;
  /** Lease length; renewed while the run lasts, so a crashed run blocks others at most this long. */
  leaseSeconds?: number;
  /** Where the run's models, checks and durations are counted (`ferry_transform_*`). */
  metrics?: Metrics;
}

/** What happened to one model in a run. */
export type ModelOutcome =
  /** Built (and its checks passed). */
  | 'built'
  /** Its SQL or a check failed; it is retried at a later run. */
  | 'failed'
  /** A model it reads failed in this run. */
  | 'skipped'
  /** Waiting out the backoff after a failure, or for a model it reads to be retried. */
  | 'waiting'
  /** Failed the day's maximum of attempts: not tried again until the date changes. */
  | 'exhausted'
  /** Left for the next run: the host's time budget was used up. */
  | 'deferred';

export interface ModelResult {
  model: string;
  outcome: ModelOutcome;
  attempt?: number;
  mode?: BuildOutcome['mode'];
  rows?: number | null;
  partitions?: (string | null)[];
  checks?: CheckResult[];
  error?: string;
}

/** Outcome of one run: the models that were due, in the order they were decided. */
export interface TransformResult {
  runId: string;
  /** Set when another run held the transform lease: nothing ran. */
  skipped?: 'locked';
  models: ModelResult[];
}

const defaultLeaseSeconds = 300;
const defaultReserveMs = 60_000;

// Bookkeeping already ensured per warehouse connection and schema.
const ensured = new WeakMap<Warehouse, Set<string>>();

async function ensureBookkeeping(options: TransformOptions): Promise<void> {
  const { warehouse, dialect } = options;
  const key = `${dialect.ferrySchema}/${dialect.modelsSchema}`;
  const done = ensured.get(warehouse) ?? new Set<string>();
  if (done.has(key)) return;
  await options.runs.ensure();
  await ensureTables(warehouse, dialect.sql, dialect.ferrySchema, dialect.createStatements());
  done.add(key);
  ensured.set(warehouse, done);
}

/** The transform lease: one run at a time per warehouse (and Ferry schema), renewed while it runs. */
async function takeLease(options: TransformOptions, seconds: number): Promise<(() => Promise<void>) | undefined> {
  const { warehouse, dialect, runId } = options;
  const taken = await warehouse.transaction((tx) => tx.execute(dialect.takeLease(), [runId, seconds]));
  if (taken === 0) return undefined;
  const renew = setInterval(() => {
    warehouse.transaction((tx) => tx.execute(dialect.renewLease(), [runId, seconds])).catch((err: unknown) => options.logger.warn('could not renew the transform lease', errorFields(err)));
  }, (seconds * 1000) / 3);
  renew.unref();
  return async () => {
    clearInterval(renew);
    await warehouse.transaction((tx) => tx.execute(dialect.releaseLease(), [runId]));
  };
}

/**
 * One transform run: under the warehouse's transform lease, builds the selected models whose
 * inputs changed (or that failed before), in dependency order and up to `parallelism` at a time,
 * each followed by its checks. A failed model is retried at later runs with a doubling wait, up
 * to `maxAttemptsPerDay` a day; the models reading it wait, and everything independent of it
 * still runs. Every model run and check is a row in `ferry.runs`.
 */
export async function runTransforms(options: TransformOptions): Promise<TransformResult> {
  const startedAt = options.clock.now();
  const result = await leasedRun(options);
  if (options.metrics) recordTransforms(options.metrics, result, (options.clock.now().getTime() - startedAt.getTime()) / 1000);
  return result;
}

async function leasedRun(options: TransformOptions): Promise<TransformResult> {
  const { logger, runId } = options;
  await ensureBookkeeping(options);
  const release = await takeLease(options, options.leaseSeconds ?? defaultLeaseSeconds);
  if (!release) {
    logger.info('transforms skipped: another run holds the transform lease', { run_id: runId });
    return { runId, skipped: 'locked', models: [] };
  }
  try {
    return await runUnderLease(options);
  } finally {
    await release().catch((err: unknown) => logger.warn('could not release the transform lease', errorFields(err)));
  }
}

/** The start of `now`'s UTC day. */
function dayStart(now: Date): Date {
  return new Date(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
}

async function runUnderLease(options: TransformOptions): Promise<TransformResult> {
  const { warehouse, dialect, project, logger, clock, runId } = options;
  const now = clock.now();
  const runDate = now.toISOString().slice(0, 10);
  const snapshot = await readSnapshot(warehouse, dialect);
  const versions = modelVersions(project, snapshot.sources, (m) => m.template.render({ runDate, incremental: false }));
  const attempts = attemptStates(await options.runs.since('transform', dayStart(now)));
  const selected = project.select(options.select ?? []);
  const due = project.models.filter((m) => {
    if (!selected.has(m.name)) return false;
    const state = snapshot.states.get(m.name);
    return options.fullRefresh || state?.version !== versions.get(m.name)!.version || !snapshot.relations.has(m.name);
  });
  const dueNames = new Set(due.map((m) => m.name));
  const results = new Map<string, ModelResult>();
  const order: string[] = [];
  const settle = (result: ModelResult) => {
    results.set(result.model, result);
    order.push(result.model);
  };

  const running = new Map<string, Promise<void>>();
  const context: BuildContext = { options, snapshot, versions, runDate, now };
  while (results.size < due.length) {
    for (const model of due) {
      if (results.has(model.name) || running.has(model.name)) continue;
      const upstream = model.refs.filter((r) => dueNames.has(r));
      if (upstream.some((r) => !results.has(r))) continue;
      const blocked = upstream.map((r) => results.get(r)!).find((r) => r.outcome !== 'built');
      if (blocked) {
        const outcome = blocked.outcome === 'failed' || blocked.outcome === 'skipped' ? 'skipped' : 'waiting';
        const error = `upstream model ${blocked.model} ${blocked.outcome === 'skipped' ? 'was skipped' : blocked.outcome}`;
        settle({ model: model.name, outcome, error });
        if (outcome === 'skipped') await options.runs.write(record(runId, model.name, 'skipped', 0, clock.now(), clock.now(), { error }));
        continue;
      }
      const gate = gateOf(options, attempts.get(model.name) ?? { failures: 0 }, clock.now());
      if (gate) {
        settle({ model: model.name, ...gate });
        continue;
      }
      if (running.size >= Math.max(1, options.parallelism)) break;
      const attempt = (attempts.get(model.name)?.failures ?? 0) + 1;
      const started = clock.now();
      running.set(
        model.name,
        runModel(context, model, attempt).then((result) => {
          options.metrics?.observe('ferry_transform_model_seconds', (clock.now().getTime() - started.getTime()) / 1000);
          running.delete(model.name);
          settle(result);
        }),
      );
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  await options.runs.prune(now, options.runsRetentionDays);
  await warehouse.query(dialect.pruneInputs(inputMemoryDays + 1)).catch((err: unknown) => logger.warn('could not prune consumed inputs', errorFields(err)));
  const models = order.map((name) => results.get(name)!);
  const counts: Record<string, number> = {};
  for (const m of models) counts[m.outcome] = (counts[m.outcome] ?? 0) + 1;
  if (models.length > 0) logger.info('transform run', { run_id: runId, ...counts });
  return { runId, models };
}

/** Why a due model does not start now, if it does not: the daily maximum, the backoff, the time budget. */
function gateOf(options: TransformOptions, state: AttemptState, now: Date): Pick<ModelResult, 'outcome' | 'error'> | undefined {
  if (!options.manual) {
    if (state.failures >= options.maxAttemptsPerDay) return { outcome: 'exhausted', error: `failed ${state.failures} times today (FERRY_TRANSFORM_MAX_ATTEMPTS=${options.maxAttemptsPerDay}); tried again tomorrow` };
    const next = nextAttemptAt(state, options.retryDelayMs);
    if (next && now < next) return { outcome: 'waiting', error: `failed ${state.failures} times today; next attempt after ${next.toISOString()}` };
  }
  if (options.remainingMs && options.remainingMs() < (options.reserveMs ?? defaultReserveMs)) return { outcome: 'deferred', error: 'left for the next run: the time budget is used up' };
  return undefined;
}

interface BuildContext {
  options: TransformOptions;
  snapshot: WarehouseSnapshot;
  versions: ReturnType<typeof modelVersions>;
  runDate: string;
  now: Date;
}

function record(runId: string, target: string, status: RunRecord['status'], attempt: number, startedAt: Date, finishedAt: Date, extra: Partial<RunRecord> = {}): RunRecord {
  return { runId, stage: 'transform', target, attempt, startedAt, finishedAt, status, ...extra };
}

/** Builds one model, runs its checks and records both. */
async function runModel(context: BuildContext, model: Model, attempt: number): Promise<ModelResult> {
  const { options, snapshot, versions, runDate, now } = context;
  const { warehouse, dialect, logger, clock, runId } = options;
  const startedAt = clock.now();
  let outcome: BuildOutcome;
  try {
    outcome = await buildModel({
      warehouse,
      dialect,
      project: options.project,
      model,
      runDate,
      existing: snapshot.relations.get(model.name),
      state: snapshot.states.get(model.name),
      version: versions.get(model.name)!,
      fullRefresh: options.fullRefresh ?? false,
      hasManifest: snapshot.hasManifest,
      inputMemoryDays,
      builtAt: sqlTimestamp(now),
      stateValidAfter: new Date(now.getTime() - (inputMemoryDays - 1) * 86_400_000),
      logger,
    });
  } catch (err) {
    const error = (err as Error).message;
    const sql = err instanceof ModelRunError ? String(err.context.sql) : null;
    logger.error('model failed', { run_id: runId, model: model.name, attempt, ...errorFields(err) });
    await options.runs.write(record(runId, model.name, 'failed', attempt, startedAt, clock.now(), { error, logExcerpt: sql }));
    return { model: model.name, outcome: 'failed', attempt, error };
  }
  snapshot.relations.set(model.name, model.config.materialized === 'view' ? 'view' : 'table');
  // Views a swap re-created exist now, whatever the snapshot said.
  if (dialect.viewsBindToTables) for (const v of options.project.dependentViews(model.name)) snapshot.relations.set(v.name, 'view');

  const checksStarted = clock.now();
  const checks = await runChecks(warehouse, dialect, model, runDate);
  const checksFinished = clock.now();
  await options.runs.write(
    ...checks.map((c) => ({
      runId,
      stage: 'check' as const,
      target: `${model.name}.${c.check}`,
      attempt,
      startedAt: checksStarted,
      finishedAt: checksFinished,
      status: c.passed ? ('success' as const) : ('failed' as const),
      rows: c.rows,
      error: c.passed ? null : c.message,
      logExcerpt: c.passed ? c.message : c.sql || null,
    })),
  );
  const failed = checks.filter((c) => !c.passed);
  const base = { model: model.name, attempt, mode: outcome.mode, rows: outcome.rows, ...(outcome.partitions ? { partitions: outcome.partitions } : {}), ...(checks.length > 0 ? { checks } : {}) };
  if (failed.length > 0) {
    // The data stays (a check is no reason to roll back); the model is retried like a failure.
    await warehouse.query(dialect.invalidateState(model.name)).catch((err: unknown) => logger.warn('could not mark the model for a rebuild', errorFields(err)));
    const error = failed.map((c) => `check ${c.check} failed: ${c.message}`).join('; ');
    logger.error('model checks failed', { run_id: runId, model: model.name, attempt, error });
    await options.runs.write(record(runId, model.name, 'failed', attempt, startedAt, clock.now(), { rows: outcome.rows, error }));
    return { ...base, outcome: 'failed', error };
  }
  const excerpt = outcome.partitions ? `replaced ${outcome.partitions.length} partition(s): ${outcome.partitions.join(', ')}` : `${outcome.mode} build`;
  logger.info('model built', { run_id: runId, model: model.name, mode: outcome.mode, rows: outcome.rows, ...(outcome.partitions ? { partitions: outcome.partitions } : {}) });
  await options.runs.write(record(runId, model.name, 'success', attempt, startedAt, clock.now(), { rows: outcome.rows, logExcerpt: excerpt }));
  return { ...base, outcome: 'built' };
}
