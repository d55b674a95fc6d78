import { errorResponse, type HttpRequestMessage, type HttpResponseMessage } from '../../core/http/http-message.js';
import { dialectFor } from '../../core/loader/dialects/dialect-for.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { runViewData } from '../../core/run-view/run-view-data.js';
import { isRunViewPath, operatorRefusal, runViewResponse } from '../../core/run-view/run-view-routes.js';
import type { CloudHost } from './cloud-host.js';

/** Where the cloud HTTP functions mount the run view: `/api/ops/`, `/api/ops/runs/<date>`, `/api/ops/api/runs[/<date>]`. */
export const cloudRunViewMount = '/api/ops';

/**
 * The run view on a cloud HTTP function: off (404) unless `FERRY_OPS_TOKEN` is set, then for
 * callers with `Authorization: Bearer <token>` only (401 otherwise). The parse backlog is left
 * out: it heads every input, which a cloud store bills per request. Answers undefined for a path
 * outside the mount (the collector's).
 */
export async function answerRunView(host: CloudHost<BlobStore>, request: HttpRequestMessage): Promise<HttpResponseMessage | undefined> {
  if (request.path !== cloudRunViewMount && !request.path.startsWith(`${cloudRunViewMount}/`)) return undefined;
  const refused = operatorRefusal(request, { token: host.config.ops.token, loopbackWithoutToken: false });
  if (refused) return refused;
  const inner = { ...request, path: request.path.slice(cloudRunViewMount.length) || '/' };
  if (!isRunViewPath(inner.path)) return errorResponse(404, `no route for ${request.path}`);
  const { config } = host;
  const sources = () => ({ store: host.store, warehouse: host.warehouse(), kind: config.warehouse.kind, schema: config.warehouseSchema, dialect: dialectFor(config), tables: host.tables, inputPrefixes: [], now: new Date(), freshnessS: config.ops.freshnessS });
  return runViewResponse(inner, (date) => runViewData(sources(), date), new Date(), cloudRunViewMount);
}
