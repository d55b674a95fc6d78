import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { answerWithCors } from '../../core/http/cors.js';
import { azureHost } from './azure-host.js';
import { fromAzureHttpRequest, toAzureHttpResponse } from './azure-http.js';

/** HTTP → collector: `POST /api/v1/track`, `GET /api/health`, `GET /api/ready`; CORS preflights (`FERRY_CORS_ORIGINS`). */
export async function httpHandler(request: HttpRequest): Promise<HttpResponseInit> {
  const host = await azureHost();
  return toAzureHttpResponse(await answerWithCors(host.config.cors, await fromAzureHttpRequest(request), (message) => host.collector().handle(message)));
}
