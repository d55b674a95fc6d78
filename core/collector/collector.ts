import { gzipSync } from 'node:zlib';
import { FerryError, InvalidInputError, StorageError, UnavailableError } from '../errors.js';
import { errorResponse, jsonResponse, type HttpRequestMessage, type HttpResponseMessage } from '../http/http-message.js';
import { decodeCollectionJson } from '../model/decode-collection-json.js';
import { rawObjectKey, type RawRecord } from '../model/raw-record.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { Logger } from '../ports/logger.js';
import { errorFields } from '../support/json-logger.js';

/** What the collector needs. */
export interface CollectorOptions {
  store: BlobStore;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
}

const retryAfterSeconds = '5';

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The HTTP collector: `POST /api/v1/track` accepts a collection and answers 200 only after the
 * raw object holding it is in object storage; `GET /api/health` answers `{"up": true}`.
 */
export class Collector {
  private closing = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: CollectorOptions) {}

  /** Handles one request; never throws (every failure becomes a status with a JSON reason). */
  async handle(request: HttpRequestMessage): Promise<HttpResponseMessage> {
    if (request.path === '/api/health') return jsonResponse(200, { up: true });
    if (request.path !== '/api/v1/track') return errorResponse(404, `no route for ${request.path}`);
    if (request.method !== 'POST') return errorResponse(405, 'method not allowed: use POST', { allow: 'POST' });
    if (this.closing) return errorResponse(503, 'shutting down', { 'retry-after': retryAfterSeconds });
    this.inFlight++;
    try {
      return await this.track(request);
    } catch (err) {
      return this.failure(err);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Stops accepting new collections (503) and resolves once every accepted one is stored. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async track(request: HttpRequestMessage): Promise<HttpResponseMessage> {
    const type = mediaType(request.headers['content-type']);
    if (type !== 'application/json') {
      throw new InvalidInputError(`unsupported content type "${type || '(none)'}": use application/json`, { field: 'content-type' }, 415);
    }
    if (request.body.byteLength > this.options.maxBodyBytes) {
      throw new InvalidInputError(`body of ${request.body.byteLength} bytes exceeds FERRY_MAX_BODY_BYTES=${this.options.maxBodyBytes}`, { limit: 'FERRY_MAX_BODY_BYTES' }, 413);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
    } catch (err) {
      throw new InvalidInputError(`malformed JSON body: ${(err as Error).message}`);
    }
    const collection = decodeCollectionJson(parsed);
    if (collection.payloads.length === 0) return { status: 204, headers: {}, body: '' };
    const receivedAt = this.options.clock.now();
    const record: RawRecord = { received_at: receivedAt.toISOString(), sent_at: null, ip: request.remoteAddress ?? null, collection };
    const key = rawObjectKey(receivedAt, this.options.ids.next(receivedAt));
    try {
      await this.options.store.put(key, gzipSync(`${JSON.stringify(record)}\n`));
    } catch (err) {
      throw new StorageError('could not store the batch; retry later', { key }, { cause: err });
    }
    return jsonResponse(200, { stored: collection.payloads.length });
  }

  private failure(err: unknown): HttpResponseMessage {
    if (err instanceof InvalidInputError) return errorResponse(err.status, err.message);
    if (err instanceof StorageError || err instanceof UnavailableError) {
      this.options.logger.error('collector unavailable', errorFields(err));
      return errorResponse(503, err.message, { 'retry-after': retryAfterSeconds });
    }
    this.options.logger.error('collector failed', errorFields(err));
    return errorResponse(500, err instanceof FerryError ? err.message : 'internal error');
  }
}
