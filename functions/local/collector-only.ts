import type { AddressInfo } from 'node:net';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { Collector, shuttingDownResponse } from '../../core/collector/collector.js';
import type { FerryConfig } from '../../core/config.js';
import { answerWithCors } from '../../core/http/cors.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { noMetrics } from '../../core/ports/metrics.js';
import { CollectorMetrics } from '../../core/metrics/collector-metrics.js';
import { RejectionLog } from '../../core/rejections/rejection-log.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { collectorStore } from '../shared/cloud-host.js';
import { openStoreAt } from '../shared/open-store.js';
import { startCollectorServer } from './collector-server.js';
import { localPaths } from './local-pipeline.js';

/** A running collector-only host. */
export interface CollectorHost {
  url: string;
  listening: AddressInfo;
  store: BlobStore;
  /** Answers new requests 503 + Retry-After, writes what was accepted, then closes. */
  stop(): Promise<void>;
}

/** The store `ferry serve` writes to: `FERRY_STORE_URL`, else the data dir's. */
export async function serveStore(config: FerryConfig): Promise<BlobStore> {
  if (!config.storeUrl) return new FsBlobStore(localPaths(config.dataDir).store);
  return openStoreAt(config.storeUrl, 'FERRY_STORE_URL', config.azure.connectionString, config.aws.s3Endpoint);
}

/**
 * `ferry serve --only collector`: the HTTP collector alone, group-committing into the store of
 * `FERRY_STORE_URL` (S3, Azure Blob or a directory) — the container host in front of a cloud
 * store, whose blob-created notifications then drive the cloud parse and load functions exactly
 * as the Lambda or Functions collector's objects do. No parser, warehouse or data dir lock.
 * `/api/ready` proves the store takes a put. Refused requests are logged (rate-limited) and
 * stored like `ferry serve`'s: one `raw/rejections/` object per 10 s window that had any, at most
 * 1,000 records one by one and the rest summed, which the cloud parser and loader put in
 * `rejections`.
 */
export async function startCollectorOnly(config: FerryConfig, logger: Logger, clock: Clock): Promise<CollectorHost> {
  const store = await serveStore(config);
  const mirror = config.mirror ? await openStoreAt(config.mirror.url, 'FERRY_MIRROR_URL', config.mirror.azureConnectionString) : undefined;
  // Refusals go to the primary store only: they are diagnostics, not events to mirror.
  const rejections = new RejectionLog({ store, clock, ids: timeSortableIds, logger });
  const observer = new CollectorMetrics({ metrics: noMetrics, logger, clock, maskIp: config.collector.maskIp, onRefused: (refused) => rejections.add(refused) });
  const collector = new Collector({ store: collectorStore(store, mirror, logger), clock, ids: timeSortableIds, logger, observer, ...config.collector });
  if (config.collector.signature.mode === 'off') logger.warn('request signatures are not checked: set FERRY_SHARED_SECRET to require them');
  const server = await startCollectorServer({
    host: config.host,
    port: config.port,
    maxBodyBytes: config.collector.limits.maxBodyBytes,
    logger,
    handle: (request) => answerWithCors(config.cors, request, (m) => collector.handle(m)),
    stopping: shuttingDownResponse(),
  });
  logger.info('ferry collector started', { listening: `${server.address.address}:${server.address.port}`, store: config.storeUrl ?? localPaths(config.dataDir).store });
  let stopped: Promise<void> | undefined;
  return {
    url: server.localUrl,
    listening: server.address,
    store,
    stop: () =>
      (stopped ??= (async () => {
        await server.drain();
        await collector.close();
        await rejections.flush();
        await server.close();
        logger.info('ferry collector stopped');
      })()),
  };
}
