import type { LoadResult } from '../loader/load-run.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { Warehouse } from '../ports/warehouse.js';
import type { RunRecorder } from '../runs/run-records.js';
import { loadRecords } from '../runs/stage-records.js';
import { errorFields } from '../support/json-logger.js';
import type { TransformResult } from './run-transforms.js';
import type { Transforms } from './transforms.js';

/** What a host passes after each load tick. */
export interface AfterLoadOptions {
  warehouse: Warehouse;
  runs: RunRecorder;
  transforms: Transforms | undefined;
  logger: Logger;
  clock: Clock;
  /** The tick's run id; the transform run gets the same id. */
  runId: string;
  load: LoadResult;
  loadStartedAt: Date;
  /** Time left before the host stops the invocation (the clouds' timers). */
  remainingMs?: () => number;
  /** Where the transform run is counted (`ferry_transform_*`). */
  metrics?: Metrics;
}

/**
 * What every host does after a load tick: one run record per table loaded, then the models whose
 * inputs changed, in the time left (those that do not fit wait for the next tick). A transform
 * run that cannot start (the warehouse refuses the lease table) is logged, not thrown: the load
 * it follows succeeded.
 */
export async function afterLoad(options: AfterLoadOptions): Promise<TransformResult | undefined> {
  const { runs, logger, clock } = options;
  await runs.write(...loadRecords(options.load, options.loadStartedAt, clock.now()));
  if (!options.transforms) return undefined;
  try {
    return await options.transforms.run({
      warehouse: options.warehouse,
      runId: options.runId,
      ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  } catch (err) {
    logger.error('transform run failed', { run_id: options.runId, ...errorFields(err) });
    return undefined;
  }
}
