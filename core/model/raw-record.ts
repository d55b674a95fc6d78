import type { Collection } from './collection.js';
import { storageLayout } from '../storage-layout.js';

/**
 * One line of a raw object (`raw/events/…ndjson.gz`): an accepted collection with what the
 * server knew when it accepted it.
 */
export interface RawRecord {
  /** Server receive time, ISO 8601 UTC with milliseconds. */
  received_at: string;
  /** Client send time from `X-Hamustro-Time` (ISO 8601 UTC), for clock-skew correction; null if absent. */
  sent_at: string | null;
  /** Client IP the server saw (first public `X-Forwarded-For`, `X-Real-Ip`, then peer); null if unknown. */
  ip: string | null;
  /**
   * The request's id (the client's `X-Request-Id`, else the collector's own), as in the
   * request's log lines; absent from records written before it was stored.
   */
  request_id?: string;
  collection: Collection;
  /**
   * Values in which the collector replaced characters no warehouse can store with U+FFFD
   * (`storable-text.ts`); absent when none.
   */
  replaced?: number;
}

/** Prefix under which the collector writes raw objects. */
export const rawEventsPrefix = storageLayout.rawEvents;

/** Raw object key: `raw/events/YYYY/MM/DD/HH/<id>.ndjson.gz`, partitioned by receive hour (UTC). */
export function rawObjectKey(receivedAt: Date, id: string): string {
  return `${storageLayout.rawHour(receivedAt)}${id}.ndjson.gz`;
}
