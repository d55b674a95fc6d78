import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { answerWithCors } from '../../core/http/cors.js';
import { azureHost } from './azure-host.js';
import { answerRunView } from '../shared/run-view-route.js';
import { fromAzureHttpRequest, toAzureHttpResponse } from './azure-http.js';

/** HTTP → collector: `POST /api/v1/track`, `GET /api/health`, `GET /api/ready`; CORS preflights (`FERRY_CORS_ORIGINS`); the run view under `/api/ops/` when `FERRY_OPS_TOKEN` is set. */
export async function httpHandler(request: HttpRequest): Promise<HttpResponseInit> {
  const host = await azureHost();
  const message = await fromAzureHttpRequest(request);
  const view = await answerRunView(host, message);
  if (view) return toAzureHttpResponse(view);
  const response = await answerWithCors(host.config.cors, message, (m) => host.collector().handle(m));
  // A PUT only when a request was refused since the last flush (concurrent invocations share it).
  await host.flushRejections();
  await host.metrics.flush?.();
  return toAzureHttpResponse(response);
}
