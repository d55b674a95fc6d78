import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';

/** `93.184.216.34:52345` or `[2001:db8::1]:443` → the address without its port. */
export function withoutPort(address: string): string {
  const value = address.trim();
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']'));
  return /^[\d.]+:\d+$/.test(value) ? value.slice(0, value.lastIndexOf(':')) : value;
}

/**
 * Azure Functions HTTP request → the core's request. The Functions front end reports the client
 * in `x-forwarded-for` as `ip:port`; that address (without the port) is the peer address.
 */
export async function fromAzureHttpRequest(request: HttpRequest): Promise<HttpRequestMessage> {
  const headers: Record<string, string | undefined> = {};
  request.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const forwarded = headers['x-forwarded-for']?.split(',')[0];
  return {
    method: request.method,
    path: new URL(request.url).pathname,
    headers,
    body: Buffer.from(await request.arrayBuffer()),
    ...(forwarded ? { remoteAddress: withoutPort(forwarded) } : {}),
  };
}

/** The core's response → an Azure Functions HTTP response. */
export function toAzureHttpResponse(message: HttpResponseMessage): HttpResponseInit {
  return { status: message.status, headers: message.headers, body: message.body };
}
