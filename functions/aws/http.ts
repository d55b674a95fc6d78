import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { answerWithCors } from '../../core/http/cors.js';
import { fromApiGatewayEvent, toApiGatewayResult } from './api-gateway.js';
import { awsHost } from './aws-host.js';
import { answerRunView } from '../shared/run-view-route.js';

/** HTTP API → collector: `POST /api/v1/track`, `GET /api/health`, `GET /api/ready`; CORS preflights (`FERRY_CORS_ORIGINS`); the run view under `/api/ops/` when `FERRY_OPS_TOKEN` is set. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const host = await awsHost();
  const request = fromApiGatewayEvent(event);
  const view = await answerRunView(host, request);
  if (view) return toApiGatewayResult(view);
  const response = await answerWithCors(host.config.cors, request, (message) => host.collector().handle(message));
  // Before returning: Lambda may freeze the instance afterwards. A PUT only when this request was refused.
  await host.flushRejections();
  await host.metrics.flush?.();
  return toApiGatewayResult(response);
}
