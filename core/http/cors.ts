import type { ConfigProblem } from '../errors.js';
import { errorResponse, type HttpRequestMessage, type HttpResponseMessage } from './http-message.js';

/** Which web origins may call the collector from a browser (`FERRY_CORS_ORIGINS`). */
export interface CorsPolicy {
  /** Exact origins (`https://app.example.com`), or `['*']` for any; empty = CORS off. */
  origins: readonly string[];
}

/** CORS off: no preflight answered, no CORS headers added. */
export const corsOff: CorsPolicy = { origins: [] };

/** What a browser may send cross-origin: the body's type and encoding and Hamustro's signature. */
export const corsAllowedHeaders = ['content-type', 'content-encoding', 'x-hamustro-time', 'x-hamustro-signature'] as const;
/** Response headers a browser client may read: `Retry-After` tells it when to retry a 503. */
const exposedHeaders = 'retry-after';
/** How long a browser may cache a preflight (Chromium caps it at 2 hours). */
const maxAgeS = '7200';

/**
 * Reads `FERRY_CORS_ORIGINS`: a comma-separated list of exact origins (`scheme://host[:port]`,
 * no path) or `*`. An entry with a path or trailing slash would never equal a browser's `Origin`
 * header, so it is refused rather than silently matching nothing.
 */
export function readCorsOrigins(raw: string | undefined, problems: ConfigProblem[]): CorsPolicy {
  const entries = (raw ?? '').split(',').map((o) => o.trim()).filter((o) => o !== '');
  const origins: string[] = [];
  for (const entry of entries) {
    if (entry === '*') {
      origins.push(entry);
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(entry);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== entry) {
      problems.push({ key: 'FERRY_CORS_ORIGINS', reason: `"${entry}" is not an origin: write scheme://host[:port] with no path or trailing slash, or *` });
    } else origins.push(entry);
  }
  return { origins: origins.includes('*') ? ['*'] : origins };
}

function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (origin === undefined || policy.origins.length === 0) return undefined;
  if (policy.origins[0] === '*') return '*';
  return policy.origins.includes(origin) ? origin : undefined;
}

/** Headers every response to an allowed origin carries. */
function originHeaders(allowed: string): Record<string, string> {
  return allowed === '*' ? { 'access-control-allow-origin': '*' } : { 'access-control-allow-origin': allowed, vary: 'Origin' };
}

/**
 * Answers a request under the CORS policy: a browser's preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) is answered here — 204 with the allowed method and headers,
 * or 403 naming the origin — and every other request goes to `handle`, its response carrying the
 * CORS headers when its `Origin` is allowed. With CORS off the request goes to `handle` untouched.
 */
export async function answerWithCors(
  policy: CorsPolicy,
  request: HttpRequestMessage,
  handle: (request: HttpRequestMessage) => Promise<HttpResponseMessage>,
): Promise<HttpResponseMessage> {
  if (policy.origins.length === 0) return handle(request);
  const origin = request.headers.origin;
  const allowed = allowedOrigin(policy, origin);
  if (request.method === 'OPTIONS' && origin !== undefined && request.headers['access-control-request-method'] !== undefined) {
    if (allowed === undefined) return errorResponse(403, `origin ${origin} is not allowed: add it to FERRY_CORS_ORIGINS`, { vary: 'Origin' });
    return {
      status: 204,
      headers: {
        ...originHeaders(allowed),
        'access-control-allow-methods': 'POST, GET',
        'access-control-allow-headers': corsAllowedHeaders.join(', '),
        'access-control-max-age': maxAgeS,
      },
      body: '',
    };
  }
  const response = await handle(request);
  if (allowed === undefined) return response;
  return { ...response, headers: { ...response.headers, ...originHeaders(allowed), 'access-control-expose-headers': exposedHeaders } };
}
