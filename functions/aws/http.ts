import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { fromApiGatewayEvent, toApiGatewayResult } from './api-gateway.js';
import { awsHost } from './aws-host.js';

/** HTTP API → collector: `POST /api/v1/track`, `GET /api/health`, `GET /api/ready`. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const host = await awsHost();
  return toApiGatewayResult(await host.collector().handle(fromApiGatewayEvent(event)));
}
