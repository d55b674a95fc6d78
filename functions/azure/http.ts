import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { azureHost } from './azure-host.js';
import { fromAzureHttpRequest, toAzureHttpResponse } from './azure-http.js';

/** HTTP → collector: `POST /api/v1/track`, `GET /api/health`, `GET /api/ready`. */
export async function httpHandler(request: HttpRequest): Promise<HttpResponseInit> {
  const host = await azureHost();
  return toAzureHttpResponse(await host.collector().handle(await fromAzureHttpRequest(request)));
}
