import { Collector } from '../../core/collector/collector.js';
import { MirroredBlobStore } from '../../core/collector/mirrored-store.js';
import { unknownSettings, type FerryConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { dialectFor } from '../../core/loader/dialects/dialect-for.js';
import type { LoadResult } from '../../core/loader/load-run.js';
import { LoadTick, type SweepResult } from '../../core/tick.js';
import { parseBatch } from '../../core/parser/parse-batch.js';
import { parseInputs, type ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { parseLostInputs } from '../../core/parser/parse-lost-inputs.js';
import type { ParseInput } from '../../core/parser/parse-object.js';
import type { TableDefinition } from '../../core/model/table-definition.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables, type RuleSet } from '../../core/parser/rules/rule-set.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { systemClock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { createJsonLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { openStoreAt } from './open-store.js';
import { openWarehouseAt } from './open-warehouse.js';
import { RunRecorder } from '../../core/runs/run-records.js';
import { recordedSweep } from '../../core/runs/stage-records.js';
import { afterLoad } from '../../core/transform/after-load.js';
import type { TransformResult } from '../../core/transform/run-transforms.js';
import { prepareTransforms, type Transforms } from '../../core/transform/transforms.js';
import { noMetrics, type Metrics } from '../../core/ports/metrics.js';
import { CollectorMetrics } from '../../core/metrics/collector-metrics.js';
import { recordLoad, recordParse, timedPuts } from '../../core/metrics/stage-metrics.js';
import { RejectionLog } from '../../core/rejections/rejection-log.js';
import { withRejectionRules } from '../../core/rejections/rejection-rules.js';
import type { ParseOptions } from '../../core/parser/parse-object.js';

/** What a cloud function instance builds once and reuses across invocations, over its store. */
export interface CloudHost<S extends BlobStore> {
  config: FerryConfig;
  logger: Logger;
  store: S;
  /** The store the collector mirrors raw batches to (`FERRY_MIRROR_URL`), if any. */
  mirror: BlobStore | undefined;
  ruleSets: RuleSet[];
  tables: TableDefinition[];
  /** Where the collector's and the load's counts go (CloudWatch EMF on AWS); flushed per invocation. */
  metrics: Metrics;
  /** Built on first use: only the HTTP function needs it. */
  collector(): Collector;
  /**
   * Stores the requests the collector refused since the last call as one `raw/rejections/`
   * object (none when it refused none): the HTTP functions call it at the end of each invocation,
   * as Lambda may freeze the instance after it.
   */
  flushRejections(): Promise<void>;
  /** Opened on first use: only the load function needs it; a missing DATABASE_URL fails there. */
  warehouse(): Warehouse;
  /** The load tick, kept across invocations so a warm container lists by arrival. */
  tick(): LoadTick;
  /** Writes `ferry.runs` records to the warehouse. */
  runs(): RunRecorder;
  /** The models (`FERRY_MODELS`), read and checked on first use; undefined without models. */
  transforms(): Promise<Transforms | undefined>;
}

/** Assembles a cloud host from the config and the platform's store (same on AWS and Azure). */
export async function createCloudHost<S extends BlobStore>(config: FerryConfig, store: S, platform: string, metrics: Metrics = noMetrics): Promise<CloudHost<S>> {
  const logger = createJsonLogger({ level: config.logLevel });
  // A mistyped setting in the function's app settings is otherwise silently ignored.
  for (const unknown of unknownSettings(process.env)) logger.warn(`${unknown.key} ${unknown.reason}`, { key: unknown.key });
  // The collectors store the requests they refuse under raw/rejections/: parsed and loaded like the rest.
  const ruleSets = withRejectionRules(await loadRuleSets(config.parser.rulesFiles, config.parser), config.parser);
  const mirror = config.mirror ? await openStoreAt(config.mirror.url, 'FERRY_MIRROR_URL', config.mirror.azureConnectionString) : undefined;
  let collector: Collector | undefined;
  let rejections: RejectionLog | undefined;
  let warehouse: Warehouse | undefined;
  let tick: LoadTick | undefined;
  let runs: RunRecorder | undefined;
  let transforms: Promise<Transforms | undefined> | undefined;
  const host: CloudHost<S> = {
    config,
    logger,
    store,
    mirror,
    ruleSets,
    tables: outputTables(ruleSets),
    metrics,
    collector: () => {
      // Said once per instance, when its HTTP function starts: an unsigned public collector takes anyone's events.
      if (!collector && config.collector.signature.mode === 'off') logger.warn('request signatures are not checked: set FERRY_SHARED_SECRET to require them');
      // Refused requests are counted, logged (rate-limited) and stored, ≤ 1,000 a flush one by one, the rest summed.
      rejections ??= new RejectionLog({ store, clock: systemClock, ids: timeSortableIds, logger });
      const refusals = rejections;
      collector ??= new Collector({
        store: timedPuts(collectorStore(store, mirror, logger), metrics), clock: systemClock, ids: timeSortableIds, logger,
        observer: new CollectorMetrics({ metrics, logger, clock: systemClock, maskIp: config.collector.maskIp, onRefused: (refused) => refusals.add(refused) }), ...config.collector,
      });
      return collector;
    },
    flushRejections: () => rejections?.flush() ?? Promise.resolve(),
    warehouse: () => {
      if (!config.databaseUrl) throw new ConfigError([{ key: 'DATABASE_URL', reason: `is required on ${platform} (the warehouse to load into)` }]);
      return (warehouse ??= openWarehouseAt(config, config.databaseUrl, { max: 2 }));
    },
    tick: () =>
      (tick ??= new LoadTick({
        store,
        warehouse: () => host.warehouse(),
        logger: host.logger,
        tables: host.tables,
        schema: config.warehouseSchema,
        dialect: dialectFor(config),
        lookbackDays: config.loadLookbackDays,
        overlapMs: config.loadOverlapS * 1000,
        ...(mirror ? { mirror } : {}),
        sweep: recordedSweep((now) => parseLost(host, now), () => host.runs(), systemClock, 'lost_notifications'),
      })),
    runs: () => (runs ??= new RunRecorder(host.warehouse(), config.warehouse.kind, config.warehouseSchema, logger)),
    transforms: () => (transforms ??= prepareTransforms(config, logger, systemClock)),
  };
  return host;
}

/** The collector's store: the primary, or the primary mirrored to a second store. */
export function collectorStore(store: BlobStore, mirror: BlobStore | undefined, logger: Logger): BlobStore {
  return mirror ? new MirroredBlobStore(store, mirror, logger) : store;
}

/** A lazily built, cached host whose failed build is retried on the next call. */
export function cachedHost<T>(build: () => Promise<T>): { get(): Promise<T>; reset(): Promise<T | undefined> } {
  let host: Promise<T> | undefined;
  return {
    get: () =>
      (host ??= build().catch((err: unknown) => {
        host = undefined; // a fixed environment succeeds on the next invocation
        throw err;
      })),
    reset: async () => {
      const current = host;
      host = undefined;
      return current?.catch(() => undefined);
    },
  };
}

/** A timer tick's load and, with models configured, the transform run after it. */
export type ScheduledLoadResult = LoadResult & { transforms?: TransformResult };

/**
 * One timed load tick ending `now`, as both clouds' timers run it (`LoadTick`: mirror replay,
 * the sweep for lost notifications, the load), then its run records and the models whose inputs
 * changed, within `remainingMs` (the rest waits for the next tick). A table that failed fails the
 * invocation after that, so the platform shows and retries it (loads are idempotent).
 */
export async function scheduledLoad(host: CloudHost<BlobStore>, runId: string, now: Date, remainingMs?: () => number): Promise<ScheduledLoadResult> {
  const startedAt = systemClock.now();
  const result: ScheduledLoadResult = await host.tick().run(runId, now);
  recordLoad(host.metrics, result, (systemClock.now().getTime() - startedAt.getTime()) / 1000);
  await host.metrics.flush?.();
  const transforms = await afterLoad({
    warehouse: host.warehouse(), runs: host.runs(), transforms: await host.transforms(), logger: host.logger, clock: systemClock,
    runId, load: result, loadStartedAt: startedAt, metrics: host.metrics, ...(remainingMs ? { remainingMs } : {}),
  });
  if (transforms) result.transforms = transforms;
  const failed = result.tables.filter((t) => t.error);
  if (failed.length > 0) throw new Error(`load failed for ${failed.map((t) => `${t.table}: ${t.error!.message}`).join('; ')}`);
  return result;
}

/** Raw objects and log files whose notification was lost, parsed inline before the load that then loads them. */
async function parseLost(host: CloudHost<BlobStore>, now: Date): Promise<SweepResult> {
  const options = parseOptions(host);
  const { parsed, more } = await parseLostInputs(options, now);
  if (parsed.length > 0 || more) host.logger.warn('parsed inputs whose notification was lost', { count: parsed.length, keys: parsed.slice(0, 10), more });
  return { found: parsed.length };
}

/**
 * Parses the inputs of one blob-created notification. A failed input fails the invocation, so
 * the platform redelivers it; inputs already summarised are skipped then.
 */
export async function notifiedParse(host: CloudHost<BlobStore>, inputs: readonly ParseInput[], remainingMs?: () => number): Promise<ParseInputsResult> {
  const result = await parseInputs(parseOptions(host, remainingMs), inputs);
  if (result.failed.length > 0) host.metrics.count('ferry_parser_failures_total', {}, result.failed.length);
  if (result.failed.length > 0) throw new Error(`parse failed for ${result.failed.map((f) => `${f.key} (${f.code}: ${f.message})`).join('; ')}`);
  return result;
}

/**
 * Parses one queue delivery of blob-created notifications in a batch (`parseBatch`): small
 * inputs share outputs, large ones are parsed alone. Failures are returned, not thrown: the
 * queue's partial-batch response retries only their messages.
 */
export async function queuedParse(host: CloudHost<BlobStore>, inputs: readonly ParseInput[], remainingMs?: () => number): Promise<ParseInputsResult> {
  const result = await parseBatch(parseOptions(host, remainingMs), inputs);
  if (result.failed.length > 0) host.metrics.count('ferry_parser_failures_total', {}, result.failed.length);
  if (result.failed.length > 0) host.logger.warn('inputs of the batch left for the queue to retry', { count: result.failed.length, failed: result.failed.slice(0, 10) });
  return result;
}

/** What the cloud parsers parse with: the host's store and rules, each parsed input counted in its metrics. */
function parseOptions(host: CloudHost<BlobStore>, remainingMs?: () => number): ParseOptions {
  return {
    store: host.store, logger: host.logger, ruleSets: host.ruleSets, maxLineBytes: host.config.parser.maxLineBytes,
    onParsed: (summary, seconds) => recordParse(host.metrics, summary, seconds),
    ...(remainingMs ? { remainingMs } : {}),
  };
}
