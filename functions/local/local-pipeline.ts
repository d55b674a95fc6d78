import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { Collector, shuttingDownResponse } from '../../core/collector/collector.js';
import { answerWithCors } from '../../core/http/cors.js';
import { collectorStore } from '../shared/cloud-host.js';
import { openStoreAt } from '../shared/open-store.js';
import type { FerryConfig } from '../../core/config.js';
import { dialectFor } from '../../core/loader/dialects/dialect-for.js';
import type { LoadResult } from '../../core/loader/load-run.js';
import { LoadTick } from '../../core/tick.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables } from '../../core/parser/rules/rule-set.js';
import { systemClock, type Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { ConfigError, UnavailableError } from '../../core/errors.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { openWarehouseAt } from '../shared/open-warehouse.js';
import { errorFields } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { openEmbeddedWarehouse } from './embedded-warehouse.js';
import { lockDataDir } from './data-dir-lock.js';
import { recordRulesInForce } from './rules-in-force.js';
import { startCollectorServer } from './collector-server.js';
import { LocalParser } from './local-parser.js';
import { RunRecorder } from '../../core/runs/run-records.js';
import { recordedSweep } from '../../core/runs/stage-records.js';
import { afterLoad } from '../../core/transform/after-load.js';
import { prepareTransforms } from '../../core/transform/transforms.js';
import { OutageLog, WarehouseWatch } from './warehouse-watch.js';
import { errorResponse, type HttpRequestMessage, type HttpResponseMessage } from '../../core/http/http-message.js';
import { PrometheusMetrics } from '../../core/metrics/prometheus-metrics.js';
import { CollectorMetrics } from '../../core/metrics/collector-metrics.js';
import { recordLoad, timedPuts } from '../../core/metrics/stage-metrics.js';
import { operatorRoutes } from './run-view/operator-routes.js';
import { RejectionLog } from '../../core/rejections/rejection-log.js';
import { rejectionSource, withRejectionRules } from '../../core/rejections/rejection-rules.js';
import { rejectedLineRecords } from '../../core/rejections/rejected-lines.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';

/** A running local pipeline. */
export interface LocalPipeline {
  /** Base URL that reaches the collector from this machine, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The address and port the collector listens on (`FERRY_HOST`, `PORT`). */
  listening: AddressInfo;
  store: FsBlobStore;
  warehouse: Warehouse;
  /** The embedded warehouse's address and password file (undefined with DATABASE_URL). */
  embedded?: { url: string; passfile: string };
  /** Resolves when every queued parse has finished (inputs waiting for a retry aside). */
  parsed(): Promise<void>;
  /** Runs one load now (after any running one) and returns its result. */
  loadNow(): Promise<LoadResult>;
  /** Stops accepting, finishes in-flight requests, parses and a final load, then releases everything. */
  stop(): Promise<void>;
}

/** Where the local pipeline keeps things inside the data dir. */
export function localPaths(dataDir: string) {
  const root = resolve(dataDir);
  return { root, store: join(root, 'store') };
}

/** Where the collector listens, for the start banner: `0.0.0.0:8080 (every IPv4 interface)`. */
export function describeListening(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const reach =
    address.address === '0.0.0.0' ? ' (every IPv4 interface)'
    : address.address === '::' ? ' (every interface)'
    : address.address.startsWith('127.') || address.address === '::1' ? ' (this machine only)'
    : '';
  return `${host}:${address.port}${reach}`;
}

/**
 * Opens the configured warehouse: the one `DATABASE_URL` names, else the data dir's embedded
 * server, which `ferry serve` owns (stopped on close) and other commands use or start briefly.
 */
export async function openWarehouse(config: FerryConfig, logger: Logger, owner: 'serve' | 'command'): Promise<{ warehouse: Warehouse; embedded?: { url: string; passfile: string } }> {
  const kind = config.warehouse.kind;
  if (kind === 'redshift' || kind === 'synapse' || kind === 'fabric') {
    // Their COPY reads parsed files from the cloud store; the local runner's store is a directory.
    throw new ConfigError([{ key: 'FERRY_WAREHOUSE', reason: `${kind} loads from cloud storage, which the local runner does not use; deploy to ${kind === 'redshift' ? 'AWS' : 'Azure'} for it` }]);
  }
  if (config.databaseUrl) return { warehouse: openWarehouseAt(config, config.databaseUrl) };
  const { warehouse, server } = await openEmbeddedWarehouse(localPaths(config.dataDir).root, { port: config.embeddedPort, logger, stopOnClose: owner === 'serve' ? 'always' : 'if-started' });
  return { warehouse, embedded: { url: server.url, passfile: server.passfile } };
}

/** How the local pipeline runs its parts. */
export interface LocalPipelineOptions {
  /**
   * The built parse script (`dist/local/parse-worker.js`): parses then run on a worker thread
   * at a lower priority, off the collector's event loop. Without it they run on the main thread
   * (the tests that start the pipeline from source; the thread needs the bundle).
   */
  parseWorker?: URL;
}

/**
 * Runs the whole pipeline in one process: the HTTP collector on `config.host:config.port`, the
 * filesystem store under the data dir, a parse for each blob-created notification (and for
 * anything a crash left unparsed, retried while it fails), and a load every
 * `config.loadIntervalS` seconds.
 */
export async function startLocalPipeline(config: FerryConfig, logger: Logger, clock: Clock = systemClock, options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const paths = localPaths(config.dataDir);
  // The local runner stores its collector's refused requests, so it parses and loads them too.
  const ruleSets = withRejectionRules(await loadRuleSets(config.parser.rulesFiles, config.parser), config.parser);
  const tables = outputTables(ruleSets);
  // A model folder with a cycle, an unknown ref() or a broken template stops the start, naming the file.
  const transforms = await prepareTransforms(config, logger, clock);
  const unlock = await lockDataDir(paths.root);
  await recordRulesInForce(paths.root, config.parser.rulesFiles, logger).catch(async (err: unknown) => { await unlock(); throw err; });
  const store = new FsBlobStore(paths.store);
  let warehouse: Warehouse;
  let embedded: { url: string; passfile: string } | undefined;
  try {
    const leftovers = await store.removeAbandonedTemp();
    if (leftovers.length > 0) logger.info('removed temp files of interrupted puts', { files: leftovers.length });
    ({ warehouse, embedded } = await openWarehouse(config, logger, 'serve'));
  } catch (err) {
    await unlock();
    throw err;
  }
  const watch = new WarehouseWatch(warehouse, logger);
  const runs = new RunRecorder(warehouse, config.warehouse.kind, config.warehouseSchema, logger);
  await watch.check();
  const mirror = config.mirror ? await openStoreAt(config.mirror.url, 'FERRY_MIRROR_URL', config.mirror.azureConnectionString) : undefined;
  const metrics = new PrometheusMetrics();
  const rejections = new RejectionLog({ store, clock, ids: timeSortableIds, logger, windowMs: config.loadIntervalS * 1000 });
  const observer = new CollectorMetrics({ metrics, logger, clock, maskIp: config.collector.maskIp, onRefused: (refused) => rejections.add(refused) });
  const collector = new Collector({ store: timedPuts(collectorStore(store, mirror, logger), metrics), clock, ids: timeSortableIds, logger, observer, ...config.collector });
  if (config.collector.signature.mode === 'off') logger.warn('request signatures are not checked: set FERRY_SHARED_SECRET to require them');

  const onParsed = (summary: ParseSummary) => {
    // Rows a parse rejected go to the rejections table too (not those of the rejections' own parse).
    if (summary.rejected + (summary.rejected_records ?? 0) === 0 || summary.source === rejectionSource) return;
    rejectedLineRecords(store, summary, clock.now()).then(
      (records) => records.forEach((r) => rejections.addRecord(r)),
      (err: unknown) => logger.warn('could not read the rejected rows of a parse', { key: summary.source_key, ...errorFields(err) }),
    );
  };
  const parser = new LocalParser({ store, ruleSets, config, logger, metrics, onParsed, ...(options.parseWorker ? { parseWorker: options.parseWorker } : {}) });
  // Inputs another process put in the store (`ferry put`, a log shipper, `mv`) send no in-process
  // notification, so their prefixes are scanned again before every load; the collector's own raw
  // objects only at start, for notifications a crash lost.
  await parser.scanAll(clock.now());

  const tick = new LoadTick({
    store,
    warehouse: () => warehouse,
    logger,
    tables,
    schema: config.warehouseSchema,
    dialect: dialectFor(config),
    lookbackDays: config.loadLookbackDays,
    overlapMs: config.loadOverlapS * 1000,
    ...(mirror ? { mirror } : {}),
    sweep: recordedSweep(async (now) => {
      const found = await parser.scanDropped(now);
      return found > 0 ? { found, settled: parser.idle() } : { found };
    }, () => runs, clock, 'dropped_inputs'),
  });
  // A warehouse that does not answer is one log line per outage, not a failed load per tick.
  let stopping = false;
  const loads = new LoadTimer(config, logger, clock, async (runId) => {
    if (await watch.check()) return undefined;
    const startedAt = clock.now();
    const load = await tick.run(runId, startedAt);
    recordLoad(metrics, load, (clock.now().getTime() - startedAt.getTime()) / 1000);
    // Run records of the tick, then the models whose inputs changed (not on the way out).
    await afterLoad({ warehouse, runs, transforms: stopping ? undefined : transforms, logger, clock, runId, load, loadStartedAt: startedAt, metrics });
    return load;
  });

  const operator = operatorRoutes({ config, store, warehouse: () => warehouse, ruleSets, metrics, clock, logger });
  const handle = async (request: HttpRequestMessage): Promise<HttpResponseMessage> => {
    const page = await operator(request);
    if (page) return page;
    if (request.path === '/api/ready') {
      const problem = await watch.check();
      if (problem !== undefined) return errorResponse(503, `warehouse unreachable: ${problem}`, { 'retry-after': String(config.loadIntervalS) });
    }
    return answerWithCors(config.cors, request, (m) => collector.handle(m));
  };
  let server;
  try {
    server = await startCollectorServer({ host: config.host, port: config.port, maxBodyBytes: config.collector.limits.maxBodyBytes, logger, handle, stopping: shuttingDownResponse() });
  } catch (err) {
    await parser.close();
    await warehouse.close();
    await unlock();
    throw err;
  }
  loads.start();
  logger.info('ferry local pipeline started', { listening: `${server.address.address}:${server.address.port}`, data_dir: paths.root, warehouse: warehouse.description, load_interval_s: config.loadIntervalS });

  let stopped: Promise<void> | undefined;
  return {
    url: server.localUrl,
    listening: server.address,
    store,
    warehouse,
    ...(embedded ? { embedded } : {}),
    parsed: () => parser.idle(),
    loadNow: () => loads.now(),
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        loads.stop();
        // Requests from now on get 503 + Retry-After; those in flight are answered first.
        await server.drain();
        await collector.close();
        await rejections.flush();
        await parser.finish();
        await loads.now().catch((err: unknown) => logger.error('final load failed', errorFields(err)));
        await server.close();
        await parser.close();
        await warehouse.close();
        await unlock();
        logger.info('ferry local pipeline stopped');
      })()),
  };
}

/**
 * Runs the load tick every `config.loadIntervalS` seconds and on demand, one run at a time. A
 * run that fails the same way tick after tick is logged once per outage.
 */
class LoadTimer {
  private runs = 0;
  private running: Promise<LoadResult | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly failures: OutageLog;

  /** `tick` resolves to undefined when it skipped the run. */
  constructor(
    private readonly config: FerryConfig,
    logger: Logger,
    private readonly clock: Clock,
    private readonly tick: (runId: string) => Promise<LoadResult | undefined>,
  ) {
    this.failures = new OutageLog(logger, { failing: 'load run failed', recovered: 'load runs succeed again' });
  }

  start(): void {
    this.timer = setTimeout(() => {
      this.next()
        .then((result) => result && this.failures.succeeded(), (err: unknown) => this.failures.failed(err))
        .finally(() => {
          if (!this.stopped) this.start();
        });
    }, this.config.loadIntervalS * 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Runs one load now (after any running one) and returns its result. */
  async now(): Promise<LoadResult> {
    const result = await this.next();
    if (result === undefined) throw new UnavailableError('the warehouse is unreachable; no load ran');
    return result;
  }

  private async next(): Promise<LoadResult | undefined> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.tick(`local-${this.clock.now().toISOString()}-${++this.runs}`);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }
}
