import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { answerWithCors } from '../../core/http/cors.js';
import { fromApiGatewayEvent, toApiGatewayResult } from './api-gateway.js';
import { awsHost } from './aws-host.js';

/** HTTP API → collector: `POST /api/v1/track`, `GET /api/health`, `GET /api/ready`; CORS preflights (`FERRY_CORS_ORIGINS`). */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const host = await awsHost();
  return toApiGatewayResult(await answerWithCors(host.config.cors, fromApiGatewayEvent(event), (request) => host.collector().handle(request)));
}
