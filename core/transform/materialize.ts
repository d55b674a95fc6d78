import { FerryError } from '../errors.js';
import type { Logger } from '../ports/logger.js';
import type { Row, Warehouse, WarehouseTransaction } from '../ports/warehouse.js';
import { errorFields } from '../support/json-logger.js';
import type { DependentView, Existing, Phase, Step, TransformDialect } from './dialects/transform-dialect.js';
import type { Model, Project } from './project.js';
import type { ModelState, ModelVersion } from './transform-state.js';

/** A model's statement failed; `context.sql` holds the statement. */
export class ModelRunError extends FerryError {
  constructor(model: string, sql: string, cause: unknown) {
    const sqlstate = (cause as { code?: unknown }).code;
    super('transform_failed', `model ${model}: ${(cause as Error).message ?? String(cause)}`, { model, sql, ...(typeof sqlstate === 'string' ? { sqlstate } : {}) }, { cause });
  }
}

/** Something statements run on: an open transaction, or the warehouse statement by statement. */
interface Runner {
  /** Runs a step; its row count where the driver reports one (inside a transaction), else null. */
  exec(step: Step): Promise<number | null>;
  query(sql: string): Promise<Row[]>;
  /** Runs `fn` atomically: inside the open transaction, or in a new one. */
  atomically<T>(fn: (runner: Runner) => Promise<T>): Promise<T>;
}

function onTransaction(tx: WarehouseTransaction, model: string, logger: Logger, optionalSteps: boolean): Runner {
  const runner: Runner = {
    async exec(step) {
      try {
        if (!step.optional || !optionalSteps) return await tx.execute(step.sql);
        // A step allowed to fail (re-creating a dependent view) runs under a savepoint.
        await tx.execute('SAVEPOINT ferry_optional');
        try {
          const n = await tx.execute(step.sql);
          await tx.execute('RELEASE SAVEPOINT ferry_optional');
          return n;
        } catch (err) {
          await tx.execute('ROLLBACK TO SAVEPOINT ferry_optional');
          logger.warn('a view reading the rebuilt model could not be re-created; its own run reports why', { model, sql: step.sql.split('\n')[0], ...errorFields(err) });
          return 0;
        }
      } catch (err) {
        throw err instanceof ModelRunError ? err : new ModelRunError(model, step.sql, err);
      }
    },
    async query(sql) {
      try {
        return await tx.query<Row>(sql);
      } catch (err) {
        throw new ModelRunError(model, sql, err);
      }
    },
    atomically: (fn) => fn(runner),
  };
  return runner;
}

/** Statements outside any transaction, each on its own (Synapse runs no DDL in a transaction). */
function onWarehouse(warehouse: Warehouse, model: string, logger: Logger, optionalSteps: boolean): Runner {
  return {
    async exec(step) {
      try {
        await warehouse.query(step.sql);
        return null;
      } catch (err) {
        throw new ModelRunError(model, step.sql, err);
      }
    },
    async query(sql) {
      try {
        return await warehouse.query<Row>(sql);
      } catch (err) {
        throw new ModelRunError(model, sql, err);
      }
    },
    atomically: (fn) => warehouse.transaction((tx) => fn(onTransaction(tx, model, logger, optionalSteps))),
  };
}

/** Runs phases in order; returns the row count of the step marked as the model's rows. */
async function runPhases(warehouse: Warehouse, model: string, phases: readonly Phase[], logger: Logger, optionalSteps: boolean): Promise<number | null> {
  let rows: number | null = null;
  const run = async (runner: Runner, steps: readonly Step[]) => {
    for (const step of steps) {
      const n = await runner.exec(step);
      if (step.rows) rows = n;
    }
  };
  for (const phase of phases) {
    if (phase.transactional) await warehouse.transaction((tx) => run(onTransaction(tx, model, logger, optionalSteps), phase.steps));
    else await run(onWarehouse(warehouse, model, logger, optionalSteps), phase.steps);
  }
  return rows;
}

/** Adds steps before the first phase and after the last, inside their transactions where possible. */
function around(phases: Phase[], before: Step[], after: Step[]): Phase[] {
  const out = phases.map((p) => ({ ...p, steps: [...p.steps] }));
  if (before.length > 0) {
    if (out[0]?.transactional) out[0].steps.unshift(...before);
    else out.unshift({ transactional: true, steps: before });
  }
  if (after.length > 0) {
    if (out.at(-1)?.transactional) out.at(-1)!.steps.push(...after);
    else out.push({ transactional: true, steps: after });
  }
  return out;
}

/** A partition value as text: dates as `YYYY-MM-DD` whatever the driver returned. */
export function partitionValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  const text = String(value);
  return /^\d{4}-\d{2}-\d{2}(?:[ T]00:00:00(?:\.0+)?(?:Z|\+00(?::?00)?)?)?$/.test(text) ? text.slice(0, 10) : text;
}

/** What one model's run needs to know. */
export interface BuildInput {
  warehouse: Warehouse;
  dialect: TransformDialect;
  project: Project;
  model: Model;
  runDate: string;
  existing: Existing;
  state: ModelState | undefined;
  version: ModelVersion;
  fullRefresh: boolean;
  /** Whether the loader's manifest exists (incremental inputs can be tracked). */
  hasManifest: boolean;
  /** Input files loaded more than this many days ago are no longer compared. */
  inputMemoryDays: number;
  /** The run's time, stored as the model's build time (`YYYY-MM-DD HH:MM:SS.mmm`). */
  builtAt: string;
  /** Incremental state older than this forces a full build (its consumed inputs were forgotten). */
  stateValidAfter: Date;
  logger: Logger;
}

/** How a model was built and how many rows it got (`null` for views). */
export interface BuildOutcome {
  mode: 'table' | 'view' | 'full' | 'incremental';
  rows: number | null;
  /** Incremental runs: the partitions replaced. */
  partitions?: (string | null)[];
}

function dependents(input: BuildInput): DependentView[] {
  if (!input.dialect.viewsBindToTables) return [];
  return input.project.dependentViews(input.model.name).map((v) => ({ name: v.name, select: v.template.render({ runDate: input.runDate, incremental: false }) }));
}

/** Whether an incremental model can replace only touched partitions, or must be built whole. */
function incrementalPossible(input: BuildInput): boolean {
  const { state, version } = input;
  return (
    !input.fullRefresh &&
    input.hasManifest &&
    input.existing === 'table' &&
    state !== undefined &&
    state.templateHash === version.templateHash &&
    state.refsVersion === version.refsVersion &&
    state.builtAt > input.stateValidAfter
  );
}

/**
 * Builds one model: a table or a full incremental build into a new table swapped in, a view
 * replaced, or an incremental run replacing the date partitions that rows loaded since its last
 * run touch. The model's state is written with the build (in its transaction where DDL allows).
 */
export async function buildModel(input: BuildInput): Promise<BuildOutcome> {
  const { dialect, model, version, logger } = input;
  const names = { schema: dialect.modelsSchema, name: model.name };
  const optional = dialect.viewsBindToTables;
  const state = dialect.writeState(model.name, version.version, version.templateHash, version.refsVersion, input.builtAt);
  const full = () => model.template.render({ runDate: input.runDate, incremental: false });
  if (model.config.materialized === 'view') {
    await runPhases(input.warehouse, model.name, around(dialect.replaceWithView(names, full(), input.existing, dependents(input)), [], state), logger, optional);
    return { mode: 'view', rows: null };
  }
  if (model.config.materialized === 'table' || !incrementalPossible(input)) {
    const consume = model.config.materialized === 'incremental' && input.hasManifest && model.sources.length > 0 ? dialect.consumeAll(model.name, model.sources, dialect.loadedSince(input.inputMemoryDays)) : [];
    const rows = await runPhases(input.warehouse, model.name, around(dialect.replaceWithTable(names, full(), input.existing, dependents(input)), consume, state), logger, optional);
    return { mode: model.config.materialized === 'table' ? 'table' : 'full', rows };
  }
  return replaceTouchedPartitions(input, state);
}

async function replaceTouchedPartitions(input: BuildInput, state: Step[]): Promise<BuildOutcome> {
  const { dialect, model, logger, warehouse } = input;
  const partitionBy = model.config.partitionBy!;
  const dropScratch = async (runner: Runner) => {
    for (const [i] of model.sources.entries()) for (const step of dialect.dropScratch(model.name, i + 1)) await runner.exec(step);
  };
  const work = async (runner: Runner): Promise<BuildOutcome> => {
    for (const step of dialect.recordChanges(model.name, model.sources, dialect.loadedSince(input.inputMemoryDays))) await runner.exec(step);
    for (const [i, source] of model.sources.entries()) for (const step of dialect.createScratch(model.name, i + 1, source)) await runner.exec(step);
    const changed = model.template.render({ runDate: input.runDate, incremental: true, sourceRelation: (t) => dialect.scratchRelation(model.name, model.sources.indexOf(t) + 1) });
    const touched = (await runner.query(dialect.touchedPartitions(changed, partitionBy))).map((r) => partitionValue(r.ferry_partition));
    const partitions = [...new Set(touched)].sort((a, b) => String(a).localeCompare(String(b)));
    const rows = await runner.atomically(async (tx) => {
      let inserted: number | null = 0;
      if (partitions.length > 0) {
        const select = model.template.render({ runDate: input.runDate, incremental: true });
        for (const step of dialect.replacePartitions({ schema: dialect.modelsSchema, name: model.name }, select, partitionBy, partitions)) {
          const n = await tx.exec(step);
          if (step.rows) inserted = n;
        }
      }
      for (const step of [...dialect.consumeChanges(model.name), ...state]) await tx.exec(step);
      return inserted;
    });
    await dropScratch(runner);
    return { mode: 'incremental', rows, partitions };
  };
  // One transaction where DDL allows it (scratch tables go with a rollback); else scratch tables
  // are dropped even when the run fails, without hiding its error.
  if (dialect.sql.transactionalDdl) return warehouse.transaction((tx) => work(onTransaction(tx, model.name, logger, false)));
  const runner = onWarehouse(warehouse, model.name, logger, false);
  try {
    return await work(runner);
  } catch (err) {
    await dropScratch(runner).catch((dropError: unknown) => logger.warn('could not drop a scratch table', { model: model.name, ...errorFields(dropError) }));
    throw err;
  }
}
