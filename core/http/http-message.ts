/**
 * The plain HTTP request the core understands. Each host translates its own event into this
 * (`fromNodeRequest`, `fromApiGatewayEvent`, `fromAzureHttpRequest`) and the result back.
 */
export interface HttpRequestMessage {
  method: string;
  /** Path without the query string, e.g. `/api/v1/track`. */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: Uint8Array;
  /** Address of the TCP peer (or what the platform reports as the source IP). */
  remoteAddress?: string;
}

/** The plain HTTP response the core produces. */
export interface HttpResponseMessage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A JSON response with the given status. */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponseMessage {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** The error body every 4xx/5xx carries: `{"error": "..."}`. */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): HttpResponseMessage {
  return jsonResponse(status, { error: message }, headers);
}
