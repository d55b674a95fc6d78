import type { IdSource } from '../ports/id-source.js';

/** Longest client-sent request id kept; the rest is cut (it goes into every log line and raw record). */
export const maxRequestIdLength = 128;

/**
 * The id of one track request: the client's `X-Request-Id` (or a proxy's) when it sends a usable
 * one — printable ASCII, cut to `maxRequestIdLength` — else a new id from `ids`. It goes into the
 * request's log lines, its raw record, its refusal record and the response's `X-Request-Id`, so
 * one id finds a request from the client's report to the warehouse.
 */
export function requestIdOf(headers: Readonly<Record<string, string | undefined>>, ids: IdSource, at: Date): string {
  // Control and non-ASCII characters would make a log line or a CSV field a puzzle to read back.
  const sent = headers['x-request-id']?.replace(/[^\x21-\x7e]/g, '').slice(0, maxRequestIdLength);
  return sent || ids.next(at);
}
