import { gzipSync } from 'node:zlib';
import type { RefusedRequest } from '../metrics/collector-metrics.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Clock } from '../ports/clock.js';
import type { IdSource } from '../ports/id-source.js';
import type { Logger } from '../ports/logger.js';
import { errorFields } from '../support/json-logger.js';
import { storageLayout } from '../storage-layout.js';

/** One line of a `raw/rejections/` object: a refused request, a rejected row, or the sum of those past a bound. */
export interface RejectionRecord {
  at: string;
  kind: 'request' | 'row' | 'aggregate';
  /** The HTTP status of a refused request; null for a row the parser rejected. */
  status: number | null;
  reason: string;
  requests: number;
  message: string;
  request_id: string | null;
  bytes: number;
  ip: string | null;
  body_prefix: string | null;
}

/** How `RejectionLog` batches and bounds what it stores. */
export interface RejectionLogOptions {
  store: BlobStore;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  /** How often the collected records are written as one object (ms). */
  windowMs?: number;
  /** Requests stored one by one per window; past it, one line per reason and status sums the rest. */
  maxPerWindow?: number;
}

/**
 * Stores the collector's refused requests as data: every `windowMs` one gzip'd JSON-lines object
 * under `raw/rejections/`, which the built-in rejection rules parse into the `rejections` table.
 * Bounded so that a flood of bad requests costs less than accepting them: at most
 * `maxPerWindow` records and one put per window, the rest summed per reason and status into
 * `aggregate` lines. Best effort: a put that fails is logged and its records dropped — they are
 * diagnostics, and the counters in `/metrics` still hold them.
 */
export class RejectionLog {
  private records: RejectionRecord[] = [];
  private aggregates = new Map<string, RejectionRecord>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly windowMs: number;
  private readonly maxPerWindow: number;

  constructor(private readonly options: RejectionLogOptions) {
    this.windowMs = options.windowMs ?? 10_000;
    this.maxPerWindow = options.maxPerWindow ?? 1000;
  }

  /** Takes one refused request; never throws, never waits. */
  add(refused: RefusedRequest): void {
    this.addRecord({ ...refused, kind: 'request', requests: 1 });
  }

  /** Takes one record (a refused request, a rejected row); past the window's bound it is summed per status and reason. */
  addRecord(record: RejectionRecord): void {
    if (this.records.length < this.maxPerWindow) {
      this.records.push(record);
    } else {
      const key = `${record.status} ${record.reason}`;
      const sum = this.aggregates.get(key) ?? { at: record.at, kind: 'aggregate', status: record.status, reason: record.reason, requests: 0, message: '', request_id: null, bytes: 0, ip: null, body_prefix: null };
      sum.requests += record.requests;
      sum.bytes += record.bytes;
      sum.at = record.at;
      sum.message = `${sum.requests} more refused for this reason in the window, past the ${this.maxPerWindow} stored one by one`;
      this.aggregates.set(key, sum);
    }
    this.timer ??= setTimeout(() => void this.flush(), this.windowMs).unref();
  }

  /** Writes what is collected now (one object), after any write under way. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = [...this.records, ...this.aggregates.values()];
    this.records = [];
    this.aggregates = new Map();
    if (lines.length === 0) return this.writing;
    this.writing = this.writing.then(() => this.write(lines));
    return this.writing;
  }

  private async write(lines: RejectionRecord[]): Promise<void> {
    const now = this.options.clock.now();
    const key = `${storageLayout.rejectionsHour(now)}${this.options.ids.next(now)}.ndjson.gz`;
    try {
      await this.options.store.put(key, gzipSync(lines.map((l) => `${JSON.stringify(l)}\n`).join('')));
    } catch (err) {
      this.options.logger.warn('could not store refused requests; they stay counted in /metrics', { requests: lines.reduce((s, l) => s + l.requests, 0), key, ...errorFields(err) });
    }
  }
}
