import { FerryError, InvalidInputError, SignatureError, StorageError, UnavailableError } from '../errors.js';
import { errorResponse, jsonResponse, type HttpRequestMessage, type HttpResponseMessage } from '../http/http-message.js';
import type { Collection } from '../model/collection.js';
import { decodeCollectionJson } from '../model/decode-collection-json.js';
import { decodeCollectionProtobuf } from '../model/decode-collection-protobuf.js';
import type { RawRecord } from '../model/raw-record.js';
import { Replacements } from '../model/storable-text.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { Logger } from '../ports/logger.js';
import { childLogger, errorFields } from '../support/json-logger.js';
import { timeSortableIds } from '../support/time-sortable-id.js';
import { clientIp, maskIp } from './client-ip.js';
import { assertLineFits, assertWithinLimits, decodeBody, type CollectorLimits } from './collector-limits.js';
import { GroupCommitter } from './group-commit.js';
import { assertLoadable } from './loadable.js';
import { assertSession } from './session.js';
import { requestIdOf } from './request-id.js';
import { verifySignature, type SignaturePolicy } from './signature.js';
import { storageLayout } from '../storage-layout.js';
import type { CollectorObserver } from '../metrics/collector-metrics.js';

/** Collector behaviour settings (from `FerryConfig.collector`). */
export interface CollectorSettings {
  limits: CollectorLimits;
  signature: SignaturePolicy;
  /** Mask client IPs (IPv4 last octet, IPv6 to /48) before storing. */
  maskIp: boolean;
  batch: { windowMs: number; maxBatchBytes: number; maxPendingBytes: number };
}

/** What the collector needs. */
export interface CollectorOptions extends CollectorSettings {
  store: BlobStore;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  /** Hears each track request's answer (metrics, the log line of a refused request). */
  observer?: CollectorObserver;
  /** Ids of requests that come without an `X-Request-Id` (time-sortable ids by default). */
  requestIds?: IdSource;
}

const retryAfterSeconds = '5';

/** The answer while a collector shuts down: the client keeps its batch and sends it again later. */
export function shuttingDownResponse(): HttpResponseMessage {
  return errorResponse(503, 'shutting down', { 'retry-after': retryAfterSeconds });
}
const readinessKey = storageLayout.readiness;

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function decodeJson(body: Uint8Array, replaced: Replacements): Collection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw new InvalidInputError(`malformed JSON body: ${(err as Error).message}`);
  }
  return decodeCollectionJson(parsed, replaced);
}

/**
 * The HTTP collector, Hamustro-compatible: `POST /api/v1/track` takes a `Collection` as protobuf
 * or JSON, checks signature, session and limits, and answers 200 only once the group-committed
 * raw object holding it is in object storage. `GET /api/health` is liveness; `GET /api/ready`
 * also proves the store is writable.
 */
export class Collector {
  private closing = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly committer: GroupCommitter;

  constructor(private readonly options: CollectorOptions) {
    this.committer = new GroupCommitter({ store: options.store, clock: options.clock, ids: options.ids, ...options.batch });
  }

  /** Bytes accepted but not yet stored. */
  get pendingBytes(): number {
    return this.committer.pending;
  }

  /** Handles one request; never throws (every failure becomes a status with a JSON reason). */
  async handle(request: HttpRequestMessage): Promise<HttpResponseMessage> {
    if (request.path === '/api/health') return jsonResponse(200, { up: true });
    if (request.path === '/api/ready') return this.ready();
    if (request.path !== '/api/v1/track') return errorResponse(404, `no route for ${request.path}`);
    if (this.closing) return errorResponse(503, 'shutting down', { 'retry-after': retryAfterSeconds });
    if (request.method !== 'POST') return errorResponse(405, 'method not allowed: use POST', { allow: 'POST' });
    const receivedAt = this.options.clock.now();
    const requestId = requestIdOf(request.headers, this.options.requestIds ?? timeSortableIds, receivedAt);
    // Every line this request causes carries its id, as its raw record and its refusal record do.
    const logger = childLogger(this.options.logger, { request_id: requestId });
    this.inFlight++;
    try {
      const response = withRequestId(await this.track(request, receivedAt, requestId, logger), requestId);
      this.options.observer?.answered(request, response, { requestId });
      return response;
    } catch (err) {
      const response = withRequestId(this.failure(err, logger), requestId);
      this.options.observer?.answered(request, response, { requestId, error: err });
      return response;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Stops accepting (503), then resolves once every accepted collection is stored or refused. */
  async close(): Promise<void> {
    this.closing = true;
    await this.committer.drain();
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async ready(): Promise<HttpResponseMessage> {
    if (this.closing) return errorResponse(503, 'shutting down', { 'retry-after': retryAfterSeconds });
    try {
      await this.options.store.put(readinessKey, Buffer.from(this.options.clock.now().toISOString()));
      return jsonResponse(200, { ready: true });
    } catch (err) {
      return this.failure(new StorageError('object store is not writable', { key: readinessKey }, { cause: err }));
    }
  }

  private async track(request: HttpRequestMessage, receivedAt: Date, requestId: string, logger: Logger): Promise<HttpResponseMessage> {
    const { limits } = this.options;
    if (request.body.byteLength > limits.maxBodyBytes) {
      throw new InvalidInputError(`body of ${request.body.byteLength} bytes exceeds FERRY_MAX_BODY_BYTES=${limits.maxBodyBytes}`, { limit: 'FERRY_MAX_BODY_BYTES' }, 413);
    }
    const sentAt = verifySignature(this.options.signature, request.headers, request.body, receivedAt);
    const type = mediaType(request.headers['content-type']);
    if (type !== 'application/json' && type !== 'application/protobuf' && type !== 'application/x-protobuf') {
      throw new InvalidInputError(`unsupported content type "${type || '(none)'}": use application/protobuf or application/json`, { field: 'content-type' }, 415);
    }
    const body = decodeBody(request.body, request.headers['content-encoding'], limits);
    const replaced = new Replacements();
    const collection = type === 'application/json' ? decodeJson(body, replaced) : decodeCollectionProtobuf(body, replaced);
    assertSession(collection, replaced.original);
    assertWithinLimits(collection, limits);
    assertLoadable(collection);
    if (collection.payloads.length === 0) return { status: 204, headers: {}, body: '' };
    const ip = clientIp(request.headers, request.remoteAddress);
    const record: RawRecord = {
      received_at: receivedAt.toISOString(),
      sent_at: sentAt ? sentAt.toISOString() : null,
      ip: ip && this.options.maskIp ? maskIp(ip) : ip,
      request_id: requestId,
      collection: this.options.maskIp ? { ...collection, payloads: collection.payloads.map((p) => (p.ip ? { ...p, ip: maskIp(p.ip) } : p)) } : collection,
    };
    if (replaced.count > 0) record.replaced = replaced.count;
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    assertLineFits(bytes - 1, limits);
    await this.committer.submit(line, bytes);
    if (replaced.count === 0) return jsonResponse(200, { stored: collection.payloads.length });
    logger.info('stored with characters no warehouse can store replaced by U+FFFD', { session: collection.session, replaced: replaced.count, fields: replaced.fields });
    return jsonResponse(200, { stored: collection.payloads.length, replaced: replaced.count });
  }

  private failure(err: unknown, logger: Logger = this.options.logger): HttpResponseMessage {
    if (err instanceof InvalidInputError) return errorResponse(err.status, err.message);
    if (err instanceof SignatureError) return errorResponse(401, err.message);
    if (err instanceof StorageError || err instanceof UnavailableError) {
      logger.warn('collector unavailable', errorFields(err));
      return errorResponse(503, err.message, { 'retry-after': retryAfterSeconds });
    }
    logger.error('collector failed', errorFields(err));
    return errorResponse(500, err instanceof FerryError ? err.message : 'internal error');
  }
}

/** The answer with the request's id, so a client (or its proxy's log) can quote it. */
function withRequestId(response: HttpResponseMessage, requestId: string): HttpResponseMessage {
  return { ...response, headers: { ...response.headers, 'x-request-id': requestId } };
}
