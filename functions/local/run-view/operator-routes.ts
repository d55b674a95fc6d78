import type { FerryConfig } from '../../../core/config.js';
import type { HttpRequestMessage, HttpResponseMessage } from '../../../core/http/http-message.js';
import { dialectFor } from '../../../core/loader/dialects/dialect-for.js';
import { loadStatus } from '../../../core/loader/load-status.js';
import type { PrometheusMetrics } from '../../../core/metrics/prometheus-metrics.js';
import { recordBacklogs } from '../../../core/metrics/stage-metrics.js';
import { parseBacklog } from '../../../core/parser/parse-backlog.js';
import { outputTables, type RuleSet } from '../../../core/parser/rules/rule-set.js';
import type { BlobStore } from '../../../core/ports/blob-store.js';
import type { Clock } from '../../../core/ports/clock.js';
import type { Logger } from '../../../core/ports/logger.js';
import type { Warehouse } from '../../../core/ports/warehouse.js';
import { runViewData, type RunViewSources } from '../../../core/run-view/run-view-data.js';
import { isRunViewPath, operatorRefusal, runViewResponse } from '../../../core/run-view/run-view-routes.js';
import { assetResponse, isAssetPath, loadRunViewAssets } from './run-view-assets.js';

/** What `ferry serve`'s operator pages read. */
export interface OperatorRoutesOptions {
  config: FerryConfig;
  store: BlobStore;
  warehouse: () => Warehouse;
  ruleSets: readonly RuleSet[];
  metrics: PrometheusMetrics;
  clock: Clock;
  logger: Logger;
}

/**
 * `ferry serve`'s operator pages: `GET /metrics` (Prometheus text; the backlog gauges are
 * measured at each scrape, listing the store as `ferry status` does) and the run view (`/`,
 * `/runs/<date>`, `/api/runs[/<date>]`) with its charts' script and style (`/assets/uplot.min.{js,css}`).
 * Without `FERRY_OPS_TOKEN` only this machine gets them.
 * Answers undefined for every other path (the collector's).
 */
export function operatorRoutes(options: OperatorRoutesOptions): (request: HttpRequestMessage) => Promise<HttpResponseMessage | undefined> {
  const { config, store, ruleSets, metrics, clock } = options;
  const access = { token: config.ops.token, loopbackWithoutToken: true };
  const tables = outputTables(ruleSets);
  const prefixes = ruleSets.map((s) => s.prefix);
  const dialect = dialectFor(config);
  const assets = loadRunViewAssets();
  if (!assets) options.logger.warn('run view: the uplot package could not be read (npm ci); the page shows tables without charts');
  const sources = (): RunViewSources => ({ store, warehouse: options.warehouse(), kind: config.warehouse.kind, schema: config.warehouseSchema, dialect, tables, inputPrefixes: prefixes, now: clock.now(), freshnessS: config.ops.freshnessS });

  const scrape = async (): Promise<HttpResponseMessage> => {
    const now = clock.now();
    try {
      const load = await loadStatus({ store, warehouse: options.warehouse(), schema: config.warehouseSchema, dialect, tables, now, olderThanS: 0, days: 1 });
      recordBacklogs(metrics, await parseBacklog(store, prefixes, now), load);
    } catch (err) {
      // The counters still answer when the warehouse does not; the gauges keep their last values.
      options.logger.warn('metrics: could not measure the backlogs', { error: (err as Error).message });
    }
    const { contentType, text } = await metrics.render();
    return { status: 200, headers: { 'content-type': contentType }, body: text };
  };

  return async (request) => {
    if (request.path !== '/metrics' && !isRunViewPath(request.path) && !isAssetPath(request.path)) return undefined;
    const refused = operatorRefusal(request, access);
    if (refused) return refused;
    if (request.path === '/metrics') return scrape();
    if (isAssetPath(request.path)) return assetResponse(request, assets);
    return runViewResponse(request, (date) => runViewData(sources(), date), clock.now(), '', { charts: assets !== undefined });
  };
}
