import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';

/**
 * API Gateway HTTP API (payload 2.0) event → the core's request. Binary and gzip bodies arrive
 * base64-encoded (`isBase64Encoded`); header names are lower-cased (API Gateway already does, but
 * a test console or a proxy may not); the source IP is what API Gateway saw.
 */
export function fromApiGatewayEvent(event: APIGatewayProxyEventV2): HttpRequestMessage {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body = event.body === undefined || event.body === null ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers,
    body,
    remoteAddress: event.requestContext.http.sourceIp,
  };
}

/** The core's response → an HTTP API result. */
export function toApiGatewayResult(message: HttpResponseMessage): APIGatewayProxyStructuredResultV2 {
  return { statusCode: message.status, headers: message.headers, body: message.body, isBase64Encoded: false };
}
