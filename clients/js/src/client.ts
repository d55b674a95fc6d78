import { environmentNumber, sessionId, signatureHeaders, type CollectionHeader, type Environment, type Parameter, type Payload } from './protocol.js';
import { sha256Hex } from './sha256.js';
import { defaultStorage, type KeyValueStorage } from './storage.js';

/** Optional collection fields, by their wire names (`device_make`, `browser`, …). */
export type CollectionDetails = Partial<Omit<CollectionHeader, 'device_id' | 'client_id' | 'session' | 'system_version' | 'product_version' | 'env'>>;

/** Why a batch was dropped: the collector refused it (4xx) or every retry failed. */
export interface DropReason {
  /** HTTP status, when the collector answered. */
  status?: number;
  error: string;
}

/** A failed attempt that will be retried after `delayMs`. */
export interface RetryInfo {
  attempt: number;
  delayMs: number;
  status?: number;
  error: string;
}

export interface FerryClientOptions {
  /** The collector's base URL (`https://collector.example.com`); events go to `<url>/api/v1/track`. */
  url: string;
  clientId: string;
  systemVersion: string;
  productVersion: string;
  /** Default `PRODUCTION`. */
  env?: Environment | number;
  /** Default: a random id kept in `storage`, so a browser keeps its device id across visits. */
  deviceId?: string;
  /** Optional collection fields sent with every batch. */
  details?: CollectionDetails;
  /** Signs every request (`X-Hamustro-Signature`). In a web page the secret is visible to anyone; see docs/clients.md. */
  sharedSecret?: string;
  /** A batch is sent once it holds this many events. Default 100 (the collector takes up to 1000). */
  maxBatchEvents?: number;
  /** …or this many bytes of JSON. Default 256 KiB (the collector takes 1 MiB as sent, 4 MiB decompressed). */
  maxBatchBytes?: number;
  /** …or when the oldest queued event has waited this long. Default 5000 ms. */
  flushIntervalMs?: number;
  /** Gzip bodies over 1 KiB where the platform has `CompressionStream`. Default true. */
  gzip?: boolean;
  /** Attempts per batch on 5xx, 408, 429 and network errors before it is dropped. Default 10. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter, up to `retryMaxMs`. Default 1000 ms. */
  retryBaseMs?: number;
  /** Longest wait between attempts, also for `Retry-After`. Default 300000 ms. */
  retryMaxMs?: number;
  /** Limits checked per event before queueing, as the collector's defaults (`FERRY_MAX_FIELD_BYTES`, `FERRY_MAX_PARAMETERS`). */
  maxFieldBytes?: number;
  maxParameters?: number;
  /** Device id, each session's last `nr` and events left at page hide. Default `localStorage`, else memory. */
  storage?: KeyValueStorage;
  /** Send queued events when the page is hidden or unloaded (browsers). Default true. */
  flushOnPageHide?: boolean;
  onSent?: (payloads: Payload[], status: number) => void;
  /** A batch the collector refused (4xx), an event over a limit, or a batch whose retries ran out. */
  onDrop?: (payloads: Payload[], reason: DropReason) => void;
  onRetry?: (payloads: Payload[], retry: RetryInfo) => void;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
}

/** Per-event fields; `at` defaults to now, `timezone` to the platform's. */
export interface TrackOptions {
  at?: Date | number;
  userId?: string;
  tenantId?: string;
  timezone?: string;
  ip?: string;
  country?: string;
}

export type ParameterValues = Record<string, string | number | boolean | null | undefined | object> | Parameter[];

type Outcome = { kind: 'sent'; status: number } | { kind: 'drop'; status?: number; error: string } | { kind: 'retry'; status?: number; error: string; retryAfterMs?: number };

const trackPath = '/api/v1/track';
/** Browsers refuse keepalive bodies beyond 64 KiB in flight per page. */
const keepaliveBudget = 60 * 1024;
const gzipMinBytes = 1024;
const utf8 = new TextEncoder();

/**
 * Sends events to a Ferry (or Hamustro) collector: builds collections for one session, numbers
 * events per session across restarts, batches by count, size and time, gzips, signs, retries
 * with backoff and jitter, drops on 4xx with a callback, and flushes when a page is hidden.
 */
export class FerryClient {
  private readonly endpoint: string;
  private readonly header: CollectionHeader;
  private readonly storage: KeyValueStorage;
  private readonly settings: Required<Pick<FerryClientOptions, 'maxBatchEvents' | 'maxBatchBytes' | 'flushIntervalMs' | 'gzip' | 'maxAttempts' | 'retryBaseMs' | 'retryMaxMs' | 'maxFieldBytes' | 'maxParameters'>>;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly random: () => number;
  private queue: { payload: Payload; bytes: number }[] = [];
  private queuedBytes = 0;
  private drainAll = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pumping: Promise<void> | undefined;
  private keepaliveBytes = 0;
  private readonly retryWakers = new Set<() => void>();
  private readonly detach: () => void;

  constructor(private readonly options: FerryClientOptions) {
    this.endpoint = options.url.replace(/\/+$/, '').endsWith(trackPath) ? options.url : `${options.url.replace(/\/+$/, '')}${trackPath}`;
    this.storage = options.storage ?? defaultStorage();
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.settings = {
      maxBatchEvents: options.maxBatchEvents ?? 100,
      maxBatchBytes: options.maxBatchBytes ?? 256 * 1024,
      flushIntervalMs: options.flushIntervalMs ?? 5000,
      gzip: options.gzip ?? true,
      maxAttempts: options.maxAttempts ?? 10,
      retryBaseMs: options.retryBaseMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 300_000,
      maxFieldBytes: options.maxFieldBytes ?? 8192,
      maxParameters: options.maxParameters ?? 100,
    };
    const identity = {
      device_id: options.deviceId ?? this.storedDeviceId(),
      client_id: options.clientId,
      system_version: options.systemVersion,
      product_version: options.productVersion,
      env: environmentNumber(options.env ?? 'PRODUCTION'),
    };
    this.header = { ...identity, session: sessionId(identity), ...options.details };
    this.detach = options.flushOnPageHide === false ? () => {} : this.attachPageHide();
    this.requeueUnsent();
  }

  /** This client's session id (`md5hex(device_id:client_id:system_version:product_version:env)`). */
  get session(): string {
    return this.header.session;
  }

  /** Events waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Queues one event and returns it with its `nr`. An event over a limit is not queued: it is
   * reported to `onDrop` at once, so it cannot make the collector refuse a whole batch.
   */
  track(event: string, parameters: ParameterValues = {}, options: TrackOptions = {}): Payload {
    const at = options.at instanceof Date ? options.at.getTime() : (options.at ?? this.now());
    const payload: Payload = { at: Math.floor(at / 1000), event, nr: this.nextNr(), parameters: toParameters(parameters) };
    const timezone = options.timezone ?? platformTimezone();
    if (timezone !== undefined) payload.timezone = timezone;
    if (options.tenantId !== undefined) payload.tenant_id = options.tenantId;
    if (options.userId !== undefined) payload.user_id = options.userId;
    if (options.ip !== undefined) payload.ip = options.ip;
    if (options.country !== undefined) payload.country = options.country;
    const problem = this.overLimit(payload);
    if (problem !== undefined) {
      this.options.onDrop?.([payload], { error: problem });
      return payload;
    }
    const bytes = utf8.encode(JSON.stringify(payload)).length + 1;
    this.queue.push({ payload, bytes });
    this.queuedBytes += bytes;
    if (this.queue.length >= this.settings.maxBatchEvents || this.queuedBytes >= this.settings.maxBatchBytes) void this.pump();
    else this.timer ??= setTimeout(() => void this.flush(), this.settings.flushIntervalMs);
    return payload;
  }

  /** Sends everything queued; resolves once each batch is sent, dropped, or out of retries. */
  flush(): Promise<void> {
    this.drainAll = true;
    return this.pump();
  }

  /** Flushes, then stops listening for page hide. */
  async close(): Promise<void> {
    await this.flush();
    this.detach();
  }

  private pump(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return (this.pumping ??= (async () => {
      try {
        while (this.queue.length > 0 && (this.drainAll || this.queue.length >= this.settings.maxBatchEvents || this.queuedBytes >= this.settings.maxBatchBytes)) {
          await this.deliver(this.takeBatch(this.settings.maxBatchBytes));
        }
      } finally {
        this.pumping = undefined;
        if (this.queue.length === 0) this.drainAll = false;
        else this.timer ??= setTimeout(() => void this.flush(), this.settings.flushIntervalMs);
      }
    })());
  }

  private takeBatch(maxBytes: number): Payload[] {
    const batch: Payload[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && batch.length < this.settings.maxBatchEvents) {
      const next = this.queue[0]!;
      if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
      this.queue.shift();
      this.queuedBytes -= next.bytes;
      bytes += next.bytes;
      batch.push(next.payload);
    }
    return batch;
  }

  /** Sends one batch until it is stored, refused, or out of attempts; never throws. */
  private async deliver(batch: Payload[], startHidden = false): Promise<void> {
    let hidden = startHidden;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(batch, hidden);
      if (outcome.kind === 'sent') {
        this.options.onSent?.(batch, outcome.status);
        return;
      }
      if (outcome.kind === 'drop') {
        this.options.onDrop?.(batch, { ...(outcome.status !== undefined ? { status: outcome.status } : {}), error: outcome.error });
        return;
      }
      if (attempt >= this.settings.maxAttempts) {
        this.options.onDrop?.(batch, { ...(outcome.status !== undefined ? { status: outcome.status } : {}), error: `gave up after ${attempt} attempts: ${outcome.error}` });
        return;
      }
      const delayMs = this.retryDelay(attempt, outcome.retryAfterMs);
      this.options.onRetry?.(batch, { attempt, delayMs, ...(outcome.status !== undefined ? { status: outcome.status } : {}), error: outcome.error });
      // A page being hidden wakes the wait: the batch then goes at once, with keepalive.
      hidden = await new Promise<boolean>((wake) => {
        const waker = () => {
          clearTimeout(timer);
          this.retryWakers.delete(waker);
          wake(true);
        };
        const timer = setTimeout(() => {
          this.retryWakers.delete(waker);
          wake(false);
        }, delayMs);
        this.retryWakers.add(waker);
      });
    }
  }

  /** One POST. When `hidden`, the request starts before this returns (the page may be going away). */
  private async attempt(batch: Payload[], hidden: boolean): Promise<Outcome> {
    const json = utf8.encode(JSON.stringify({ ...this.header, payloads: batch }));
    const gzip = !hidden && this.settings.gzip && json.length >= gzipMinBytes && typeof CompressionStream !== 'undefined';
    const body = gzip ? await gzipBytes(json) : json;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (gzip) headers['content-encoding'] = 'gzip';
    if (this.options.sharedSecret !== undefined) Object.assign(headers, signatureHeaders(body, this.options.sharedSecret, this.now()));
    // keepalive lets the request outlive the page; browsers cap such bodies in flight at 64 KiB.
    const keepalive = this.keepaliveBytes + body.length <= keepaliveBudget;
    if (keepalive) this.keepaliveBytes += body.length;
    try {
      const response = await this.fetch(this.endpoint, { method: 'POST', headers, body: body as BodyInit, keepalive, credentials: 'omit', mode: 'cors' });
      const text = await response.text().catch(() => '');
      if (response.status === 200 || response.status === 204) return { kind: 'sent', status: response.status };
      const error = errorText(text) ?? `HTTP ${response.status}`;
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
        return { kind: 'retry', status: response.status, error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }
      return { kind: 'drop', status: response.status, error };
    } catch (err) {
      return { kind: 'retry', error: `network error: ${(err as Error).message}` };
    } finally {
      if (keepalive) this.keepaliveBytes -= body.length;
    }
  }

  /** Exponential backoff with jitter (half fixed, half random); `Retry-After` plus up to 20 % when given. */
  private retryDelay(attempt: number, retryAfterMs: number | undefined): number {
    const { retryBaseMs, retryMaxMs } = this.settings;
    if (retryAfterMs !== undefined) return Math.round(Math.min(retryMaxMs, retryAfterMs * (1 + 0.2 * this.random())));
    const backoff = Math.min(retryMaxMs, retryBaseMs * 2 ** (attempt - 1));
    return Math.round(backoff / 2 + (backoff / 2) * this.random());
  }

  /** Page hidden or unloading: everything queued goes now, within the keepalive budget; the rest waits in storage. */
  private sendOnHide(): void {
    for (const wake of [...this.retryWakers]) wake();
    while (this.queue.length > 0) {
      const room = Math.min(this.settings.maxBatchBytes, keepaliveBudget - this.keepaliveBytes - 1024);
      if (room < this.queue[0]!.bytes) break;
      void this.deliver(this.takeBatch(room), true);
    }
    if (this.queue.length > 0) {
      const unsent = this.queue.map((q) => q.payload);
      this.queue = [];
      this.queuedBytes = 0;
      try {
        this.storage.setItem(this.unsentKey(), JSON.stringify(unsent));
      } catch {
        this.options.onDrop?.(unsent, { error: 'page hidden with more events than a keepalive request carries, and storage refused them' });
      }
    }
  }

  private attachPageHide(): () => void {
    const doc = (globalThis as { document?: Document }).document;
    const win = globalThis as unknown as Partial<Window>;
    if (doc === undefined || typeof win.addEventListener !== 'function') return () => {};
    const onVisibility = () => {
      if (doc.visibilityState === 'hidden') this.sendOnHide();
    };
    const onPageHide = () => this.sendOnHide();
    doc.addEventListener('visibilitychange', onVisibility);
    win.addEventListener('pagehide', onPageHide);
    return () => {
      doc.removeEventListener('visibilitychange', onVisibility);
      win.removeEventListener!('pagehide', onPageHide);
    };
  }

  /** Events a previous page left in storage at hide time go first. */
  private requeueUnsent(): void {
    const stored = this.storage.getItem(this.unsentKey());
    if (stored === null) return;
    this.storage.setItem(this.unsentKey(), '[]');
    let unsent: Payload[];
    try {
      unsent = JSON.parse(stored) as Payload[];
    } catch {
      return;
    }
    if (!Array.isArray(unsent) || unsent.length === 0) return;
    for (const payload of unsent) {
      const bytes = utf8.encode(JSON.stringify(payload)).length + 1;
      this.queue.push({ payload, bytes });
      this.queuedBytes += bytes;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.settings.flushIntervalMs);
  }

  private unsentKey(): string {
    return `ferry:unsent:${this.header.session}`;
  }

  /** The next `nr` of this session, kept in storage so a restarted app continues the sequence. */
  private nextNr(): number {
    const key = `ferry:nr:${this.header.session}`;
    const last = Number.parseInt(this.storage.getItem(key) ?? '0', 10);
    const nr = (Number.isSafeInteger(last) && last > 0 ? last : 0) + 1;
    this.storage.setItem(key, String(nr));
    return nr;
  }

  private storedDeviceId(): string {
    const key = 'ferry:device_id';
    const stored = this.storage.getItem(key);
    if (stored) return stored;
    const random = new Uint8Array(16);
    globalThis.crypto.getRandomValues(random);
    // Hamustro clients send sha256hex of a device identifier.
    const id = sha256Hex(random);
    this.storage.setItem(key, id);
    return id;
  }

  private overLimit(payload: Payload): string | undefined {
    const { maxFieldBytes, maxParameters } = this.settings;
    if (payload.parameters.length > maxParameters) return `event ${payload.event}: ${payload.parameters.length} parameters, more than ${maxParameters}`;
    const fields: [string, string | undefined][] = [['event', payload.event], ['timezone', payload.timezone], ['tenant_id', payload.tenant_id], ['user_id', payload.user_id], ['ip', payload.ip], ['country', payload.country]];
    payload.parameters.forEach((p, i) => fields.push([`parameters[${i}].name`, p.name], [`parameters[${i}].value`, p.value]));
    for (const [name, value] of fields) {
      if (value !== undefined && utf8.encode(value).length > maxFieldBytes) return `event ${payload.event.slice(0, 64)}: ${name} is longer than ${maxFieldBytes} bytes`;
    }
    return undefined;
  }
}

function toParameters(values: ParameterValues): Parameter[] {
  if (Array.isArray(values)) return values.map((p) => ({ name: p.name, value: p.value }));
  const parameters: Parameter[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined) continue;
    parameters.push({ name, value: typeof value === 'object' ? JSON.stringify(value) : String(value) });
  }
  return parameters;
}

function platformTimezone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function errorText(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : undefined;
  } catch {
    return body.trim() === '' ? undefined : body.trim().slice(0, 200);
  }
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
