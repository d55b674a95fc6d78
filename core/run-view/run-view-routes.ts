import { createHash, timingSafeEqual } from 'node:crypto';
import { errorResponse, jsonResponse, type HttpRequestMessage, type HttpResponseMessage } from '../http/http-message.js';
import type { RunViewData } from './run-view-data.js';
import { runViewHtml, type RunViewPageOptions } from './run-view-html.js';

/** Who may read the operator pages (run view, `/metrics`). */
export interface OperatorAccess {
  /** `FERRY_OPS_TOKEN`: when set, `Authorization: Bearer <token>` is required. */
  token: string | undefined;
  /** Without a token: whether requests from this machine (a loopback TCP peer) are let in. */
  loopbackWithoutToken: boolean;
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Compares by SHA-256 digests, so neither the length nor a common prefix shows in the time taken. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether `request` may read operator pages: undefined when it may, else the answer to give
 * (401 for a missing or wrong token, 404 where the pages are off).
 */
export function operatorRefusal(request: HttpRequestMessage, access: OperatorAccess): HttpResponseMessage | undefined {
  if (access.token === undefined) {
    if (access.loopbackWithoutToken && isLoopback(request.remoteAddress)) return undefined;
    return errorResponse(404, `no route for ${request.path}`);
  }
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (match && sameSecret(match[1]!, access.token)) return undefined;
  return errorResponse(401, 'operator pages need Authorization: Bearer <FERRY_OPS_TOKEN>', { 'www-authenticate': 'Bearer realm="ferry"' });
}

/** Whether `path` is one of the run view's: `/`, `/runs/<date>`, `/api/runs`, `/api/runs/<date>`. */
export function isRunViewPath(path: string): boolean {
  return path === '/' || path === '/runs' || path.startsWith('/runs/') || path === '/api/runs' || path.startsWith('/api/runs/');
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Answers a run view path: the page (HTML) or its data (JSON) for a day, today (UTC) when the
 * path names none. `show` builds the day's data. `basePath` prefixes the page's links (a cloud
 * route's mount point); `page` whether the page draws charts.
 */
export async function runViewResponse(request: HttpRequestMessage, show: (date: string) => Promise<RunViewData>, now: Date, basePath = '', page: RunViewPageOptions = {}): Promise<HttpResponseMessage> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return errorResponse(405, 'method not allowed: use GET', { allow: 'GET' });
  const json = request.path.startsWith('/api/');
  const date = request.path.replace(/^\/(api\/)?runs\/?/, '').replace(/^\/$/, '') || now.toISOString().slice(0, 10);
  if (!datePattern.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) return errorResponse(400, `not a date: "${date}" (use YYYY-MM-DD)`);
  const data = await show(date);
  if (json) return jsonResponse(200, data, { 'cache-control': 'no-store' });
  return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: runViewHtml(data, basePath, page) };
}
