import { FerryError, InvalidInputError, SignatureError } from '../errors.js';
import type { HttpRequestMessage, HttpResponseMessage } from '../http/http-message.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Metrics } from '../ports/metrics.js';
import { clientIp, maskIp } from '../collector/client-ip.js';

/** What the collector knows of a request it answered besides the response: its id and why it failed. */
export interface AnsweredRequest {
  /** The request's id (`X-Request-Id`, else the collector's own), as in its log lines and raw record. */
  requestId: string;
  error?: unknown;
}

/** What a host hears of each track request the collector answered. */
export interface CollectorObserver {
  answered(request: HttpRequestMessage, response: HttpResponseMessage, outcome: AnsweredRequest): void;
}

/** One refused track request, as logged (and as a `rejections` row). */
export interface RefusedRequest {
  at: string;
  status: number;
  /** Short, bounded reason code: `signature`, `content_type`, `body_too_large`, `limit:FERRY_…`, `field:session`, `invalid_body`, … */
  reason: string;
  message: string;
  request_id: string;
  bytes: number;
  ip: string | null;
  /** The first `bodyPrefixBytes` of the body, as text (invalid UTF-8 replaced). */
  body_prefix: string;
}

/**
 * A refusal's reason as a label of bounded cardinality: the status's meaning, the limit's
 * setting, or the first segment of the offending field (never an index or a client's name).
 */
export function refusalReason(status: number, err: unknown): string {
  if (err instanceof SignatureError || status === 401) return 'signature';
  if (status === 413) return 'body_too_large';
  if (status === 415) return 'content_type';
  if (status === 405) return 'method';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'internal';
  if (err instanceof InvalidInputError) {
    if (typeof err.context.limit === 'string') return `limit:${err.context.limit}`;
    if (typeof err.context.field === 'string') return `field:${err.context.field.split(/[.[]/)[0]}`;
    return 'invalid_body';
  }
  if (err instanceof FerryError) return err.code;
  return 'invalid_body';
}

function eventsStored(response: HttpResponseMessage): number {
  try {
    const stored = (JSON.parse(response.body) as { stored?: unknown }).stored;
    return typeof stored === 'number' ? stored : 0;
  } catch {
    return 0;
  }
}

/** How refused requests are logged. */
export interface CollectorMetricsOptions {
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  maskIp: boolean;
  /** Refused requests logged one by one per minute; past it they are counted, and the count logged once. */
  logPerMinute?: number;
  /** Bytes of a refused body kept in its log line. */
  bodyPrefixBytes?: number;
  /** Hears every refused request (the rejections writer). */
  onRefused?: (refused: RefusedRequest) => void;
}

/**
 * Counts the collector's answers (`ferry_collector_*`) and logs each refused request once at
 * info with its reason and request id (the collector's: the client's `x-request-id`, else a new one). A flood of
 * bad requests costs a counter increment each past `logPerMinute`: the lines not written are
 * summed into one line when the minute turns.
 */
export class CollectorMetrics implements CollectorObserver {
  private windowStart = 0;
  private loggedInWindow = 0;
  private suppressed = 0;
  private readonly perMinute: number;
  private readonly prefixBytes: number;

  constructor(private readonly options: CollectorMetricsOptions) {
    this.perMinute = options.logPerMinute ?? 60;
    this.prefixBytes = options.bodyPrefixBytes ?? 256;
  }

  answered(request: HttpRequestMessage, response: HttpResponseMessage, { requestId, error }: AnsweredRequest): void {
    const { metrics } = this.options;
    const bytes = request.body.byteLength;
    if (response.status < 400) {
      const events = eventsStored(response);
      metrics.count('ferry_collector_requests_total', { status: String(response.status), reason: 'ok' });
      metrics.count('ferry_collector_events_accepted_total', {}, events);
      metrics.count('ferry_collector_bytes_total', { outcome: 'accepted' }, bytes);
      metrics.observe('ferry_collector_batch_events', events);
      return;
    }
    const reason = refusalReason(response.status, error);
    metrics.count('ferry_collector_requests_total', { status: String(response.status), reason });
    metrics.count('ferry_collector_bytes_total', { outcome: 'refused' }, bytes);
    const ip = clientIp(request.headers, request.remoteAddress);
    const refused: RefusedRequest = {
      at: this.options.clock.now().toISOString(),
      status: response.status,
      reason,
      message: error instanceof Error ? error.message : response.body,
      request_id: requestId,
      bytes,
      ip: ip && this.options.maskIp ? maskIp(ip) : ip,
      body_prefix: Buffer.from(request.body.subarray(0, this.prefixBytes)).toString('utf8'),
    };
    this.log(refused);
    this.options.onRefused?.(refused);
  }

  private log(refused: RefusedRequest): void {
    const now = this.options.clock.now().getTime();
    if (now - this.windowStart >= 60_000) {
      if (this.suppressed > 0) this.options.logger.info('refused requests not logged one by one (over the rate limit)', { requests: this.suppressed, per_minute: this.perMinute });
      this.windowStart = now;
      this.loggedInWindow = 0;
      this.suppressed = 0;
    }
    if (this.loggedInWindow >= this.perMinute) {
      this.suppressed++;
      return;
    }
    this.loggedInWindow++;
    this.options.metrics.count('ferry_collector_rejections_logged_total');
    const { body_prefix, ...fields } = refused;
    this.options.logger.info('request refused', { ...fields, body_prefix: body_prefix.slice(0, 120) });
  }
}
