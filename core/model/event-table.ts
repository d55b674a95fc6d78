import { fingerprintReads, storedEventFingerprint } from './event-fingerprint.js';
import type { TableDefinition } from './table-definition.js';

/**
 * The `events` table: Hamustro's flat event row in its CSV column order (seed-systems §1.10),
 * plus when Ferry received it, when the client says it sent it, the clock skew between the two
 * (`received_at − sent_at`, whole seconds), `at` corrected for that skew, the raw object's key,
 * and the fingerprint of the payload's content (`event-fingerprint.ts`).
 *
 * Rows are keyed `(session, nr, fingerprint)`: an identical re-send is stored once (the earliest
 * receipt kept), while two different payloads that share `(session, nr)` — a client drawing `nr`
 * at random, or resetting its counter — are both kept and counted as collisions.
 */
export const eventTable: TableDefinition = {
  name: 'events',
  columns: [
    { name: 'device_id', type: 'text', required: true },
    { name: 'client_id', type: 'text', required: true },
    { name: 'session', type: 'text', required: true },
    { name: 'nr', type: 'bigint', required: true },
    { name: 'env', type: 'text', required: true },
    { name: 'system_version', type: 'text', required: true },
    { name: 'product_version', type: 'text', required: true },
    { name: 'at', type: 'timestamp', required: true },
    { name: 'timezone', type: 'text' },
    { name: 'event', type: 'text', required: true },
    { name: 'device_make', type: 'text' },
    { name: 'device_model', type: 'text' },
    { name: 'system', type: 'text' },
    { name: 'system_language', type: 'text' },
    { name: 'browser', type: 'text' },
    { name: 'browser_version', type: 'text' },
    { name: 'product_git_hash', type: 'text' },
    { name: 'product_language', type: 'text' },
    { name: 'user_id', type: 'text' },
    { name: 'tenant_id', type: 'text' },
    { name: 'ip', type: 'text' },
    { name: 'country', type: 'text' },
    { name: 'parameters', type: 'json', required: true },
    { name: 'received_at', type: 'timestamp', required: true },
    { name: 'sent_at', type: 'timestamp' },
    { name: 'clock_skew_s', type: 'bigint' },
    { name: 'at_corrected', type: 'timestamp', required: true },
    { name: 'source_key', type: 'text', required: true },
    { name: 'fingerprint', type: 'text', required: true },
  ],
  key: ['session', 'nr', 'fingerprint'],
  keepEarliest: 'received_at',
  collisionKey: ['session', 'nr'],
  // at_corrected is the day analysts count by (docs/warehouses.md); received_at is what a load covered.
  timeIndexes: [{ column: 'at_corrected' }, { column: 'received_at', arrivalOrder: true }],
  backfill: { column: 'fingerprint', reads: fingerprintReads, compute: storedEventFingerprint },
};
