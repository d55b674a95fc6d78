import type { FerryConfig } from '../config.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import type { Warehouse } from '../ports/warehouse.js';
import { RunRecorder } from '../runs/run-records.js';
import { transformDialectFor } from './dialects/transform-dialect-for.js';
import type { TransformDialect } from './dialects/transform-dialect.js';
import { loadProject, type Project } from './project.js';
import { runTransforms, type TransformResult } from './run-transforms.js';

/** What a host passes to one transform run. */
export interface TransformRunRequest {
  warehouse: Warehouse;
  runId: string;
  remainingMs?: () => number;
  select?: readonly string[];
  fullRefresh?: boolean;
  manual?: boolean;
  /** Where the run is counted (`ferry_transform_*`); none when omitted. */
  metrics?: Metrics;
}

/** The configured models, checked at start, and how to run them. */
export interface Transforms {
  project: Project;
  dialect: TransformDialect;
  run(request: TransformRunRequest): Promise<TransformResult>;
}

/**
 * Reads and checks the models `FERRY_MODELS` names (a cycle, an unknown `ref()` or a template
 * that does not compile fails here, naming the file); undefined when no models are configured.
 */
export async function prepareTransforms(config: FerryConfig, logger: Logger, clock: Clock): Promise<Transforms | undefined> {
  const settings = config.transform;
  if (!settings.modelsDir) return undefined;
  const dialect = transformDialectFor(config.warehouse.kind, config.warehouseSchema, settings.modelsSchema);
  const project = await loadProject(settings.modelsDir, dialect.renderTarget(), clock.now().toISOString().slice(0, 10));
  logger.info('models ready', { models: project.models.length, folder: settings.modelsDir, schema: settings.modelsSchema });
  return {
    project,
    dialect,
    run: (request) =>
      runTransforms({
        warehouse: request.warehouse,
        dialect,
        project,
        runs: new RunRecorder(request.warehouse, config.warehouse.kind, config.warehouseSchema, logger),
        logger,
        clock,
        runId: request.runId,
        maxAttemptsPerDay: settings.maxAttemptsPerDay,
        retryDelayMs: settings.retryDelayS * 1000,
        parallelism: settings.parallelism,
        runsRetentionDays: config.runsRetentionDays,
        ...(request.select ? { select: request.select } : {}),
        ...(request.fullRefresh ? { fullRefresh: true } : {}),
        ...(request.manual ? { manual: true } : {}),
        ...(request.remainingMs ? { remainingMs: request.remainingMs } : {}),
        ...(request.metrics ? { metrics: request.metrics } : {}),
      }),
  };
}
