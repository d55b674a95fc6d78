import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgliteWarehouse } from '../../core/adapters/pglite-warehouse.js';
import { Collector } from '../../core/collector/collector.js';
import { answerWithCors } from '../../core/http/cors.js';
import { replayMirror } from '../../core/collector/mirrored-store.js';
import { collectorStore } from '../shared/cloud-host.js';
import { openStoreAt } from '../shared/open-store.js';
import type { FerryConfig } from '../../core/config.js';
import { dialectFor } from '../../core/loader/dialects/dialect-for.js';
import { runLoad, type LoadResult } from '../../core/loader/load-run.js';
import { lookbackDates } from '../../core/loader/load-window.js';
import { rawEventsPrefix } from '../../core/model/raw-record.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables } from '../../core/parser/rules/rule-set.js';
import { systemClock, type Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { ConfigError } from '../../core/errors.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { openWarehouseAt } from '../shared/open-warehouse.js';
import { errorFields } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { startAdminSocket } from './admin-socket.js';
import { lockDataDir } from './data-dir-lock.js';
import { recordRulesInForce } from './rules-in-force.js';
import { fromNodeRequest, toNodeResponse } from './node-http.js';
import { LocalParser } from './local-parser.js';

/** A running local pipeline. */
export interface LocalPipeline {
  /** Base URL of the collector, e.g. `http://127.0.0.1:8080`. */
  url: string;
  store: FsBlobStore;
  warehouse: Warehouse;
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
  return { root, store: join(root, 'store'), warehouse: join(root, 'warehouse'), socket: join(root, 'ferry.sock') };
}

/** Opens the configured warehouse: the one `DATABASE_URL` names, else embedded PostgreSQL. */
export async function openWarehouse(config: FerryConfig): Promise<Warehouse> {
  const kind = config.warehouse.kind;
  if (kind === 'redshift' || kind === 'synapse' || kind === 'fabric') {
    // Their COPY reads parsed files from the cloud store; the local runner's store is a directory.
    throw new ConfigError([{ key: 'FERRY_WAREHOUSE', reason: `${kind} loads from cloud storage, which the local runner does not use; deploy to ${kind === 'redshift' ? 'AWS' : 'Azure'} for it` }]);
  }
  if (config.databaseUrl) return openWarehouseAt(config, config.databaseUrl);
  return PgliteWarehouse.open(localPaths(config.dataDir).warehouse);
}

/** How the local pipeline runs its parts. */
export interface LocalPipelineOptions {
  /**
   * The built parse script (`dist/local/parse-worker.js`): parses then run in a child process
   * at a lower priority, off the collector's event loop. Without it they run in this process
   * (the tests that start the pipeline from source; the child needs the bundle).
   */
  parseWorker?: URL;
}

/**
 * Runs the whole pipeline in one process: the HTTP collector on `config.port`, the filesystem
 * store under the data dir, a parse for each blob-created notification (and for anything a
 * crash left unparsed, retried while it fails), and a load every `config.loadIntervalS` seconds.
 */
export async function startLocalPipeline(config: FerryConfig, logger: Logger, clock: Clock = systemClock, options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const paths = localPaths(config.dataDir);
  const ruleSets = await loadRuleSets(config.parser.rulesFiles, config.parser);
  const tables = outputTables(ruleSets);
  const unlock = await lockDataDir(paths.root);
  await recordRulesInForce(paths.root, config.parser.rulesFiles, logger).catch(async (err: unknown) => { await unlock(); throw err; });
  const store = new FsBlobStore(paths.store);
  let warehouse: Warehouse;
  try {
    const leftovers = await store.removeAbandonedTemp();
    if (leftovers.length > 0) logger.info('removed temp files of interrupted puts', { files: leftovers.length });
    warehouse = await openWarehouse(config);
  } catch (err) {
    await unlock();
    throw err;
  }
  const mirror = config.mirror ? openStoreAt(config.mirror.url, 'FERRY_MIRROR_URL', config.mirror.azureConnectionString) : undefined;
  const collector = new Collector({ store: collectorStore(store, mirror, logger), clock, ids: timeSortableIds, logger, ...config.collector });
  if (config.collector.signature.mode === 'off') logger.warn('request signatures are not checked: set FERRY_SHARED_SECRET to require them');

  let stopping = false;
  const parser = new LocalParser({ store, ruleSets, config, logger, ...(options.parseWorker ? { parseWorker: options.parseWorker } : {}) });
  // Inputs another process put in the store (`ferry put`, a log shipper, `mv`) send no in-process
  // notification, so their prefixes are re-scanned before every load; the collector's own raw
  // objects only at start, for notifications a crash lost.
  const droppedPrefixes = ruleSets.map((s) => s.prefix).filter((p) => p !== rawEventsPrefix);
  await parser.scan(ruleSets.map((s) => s.prefix));

  let runs = 0;
  let loading: Promise<LoadResult> | undefined;
  const loadNow = async (): Promise<LoadResult> => {
    while (loading) await loading.catch(() => undefined);
    const runId = `local-${clock.now().toISOString()}-${++runs}`;
    const dates = config.loadLookbackDays === 0 ? undefined : lookbackDates(clock.now(), config.loadLookbackDays);
    loading = runLoad({ store, warehouse, logger, tables, schema: config.warehouseSchema, dialect: dialectFor(config), runId, ...(dates ? { dates } : {}) });
    try {
      return await loading;
    } finally {
      loading = undefined;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const scheduleLoad = () => {
    timer = setTimeout(() => {
      parser
        .scan(droppedPrefixes)
        .then(() => (mirror ? replayMirror(store, mirror, logger) : undefined))
        .then(loadNow)
        .catch((err: unknown) => logger.error('load run failed', errorFields(err)))
        .finally(() => {
          if (!stopping) scheduleLoad();
        });
    }, config.loadIntervalS * 1000);
  };

  const server: Server = createServer((req, res) => {
    fromNodeRequest(req, config.collector.limits.maxBodyBytes)
      .then((message) => answerWithCors(config.cors, message, (m) => collector.handle(m)))
      // After a 413 the rest of the body is still unread: close the connection rather than drain it.
      .then((response) => toNodeResponse(res, response, stopping || response.status === 413))
      .catch((err: unknown) => {
        logger.error('request failed', errorFields(err));
        if (!res.headersSent) toNodeResponse(res, { status: 500, headers: { 'content-type': 'application/json' }, body: '{"error":"internal error"}' });
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(config.port, '0.0.0.0', () => ready());
  }).catch(async (err: unknown) => {
    await parser.close();
    await warehouse.close();
    await unlock();
    throw err;
  });
  const admin = await startAdminSocket(paths.socket, warehouse, logger);
  scheduleLoad();
  const { port } = server.address() as AddressInfo;
  logger.info('ferry local pipeline started', { port, data_dir: paths.root, warehouse: warehouse.description, load_interval_s: config.loadIntervalS });

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    warehouse,
    parsed: () => parser.idle(),
    loadNow,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        if (timer) clearTimeout(timer);
        const closed = new Promise<void>((done) => server.close(() => done()));
        server.closeIdleConnections();
        await collector.close();
        await closed;
        await parser.finish();
        await loadNow().catch((err: unknown) => logger.error('final load failed', errorFields(err)));
        await parser.close();
        await admin.close();
        await warehouse.close();
        await unlock();
        logger.info('ferry local pipeline stopped');
      })()),
  };
}
