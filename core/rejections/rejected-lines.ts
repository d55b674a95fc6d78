import { createGunzip } from 'node:zlib';
import { readCsvRecords } from '../loader/csv-rows.js';
import type { ParseSummary } from '../parser/parse-summary.js';
import type { BlobStore } from '../ports/blob-store.js';
import { storageLayout } from '../storage-layout.js';
import type { RejectionRecord } from './rejection-log.js';

/** Bytes of a rejected line kept in its record. */
const linePrefixChars = 256;

/**
 * The lines (or collector records) one input's parse rejected, read back from its `rejected/` output
 * (`source_key, line, reason, text`), as `rejections` records of kind `row`: at most `max` of
 * them, the rest summed in one `aggregate` record that says how many.
 */
export async function rejectedLineRecords(store: BlobStore, summary: ParseSummary, at: Date, max = 100): Promise<RejectionRecord[]> {
  const key = summary.outputs.find((k) => k.startsWith(storageLayout.rejected));
  if (!key) return [];
  const records: RejectionRecord[] = [];
  let more = 0;
  for await (const [sourceKey, line, reason, text] of readCsvRecords((await store.get(key)).pipe(createGunzip()), key)) {
    // A batch's inputs share one rejected file: each input's summary stands for its own rows.
    if (sourceKey !== summary.source_key) continue;
    if (records.length >= max) {
      more++;
      continue;
    }
    records.push({ at: at.toISOString(), kind: 'row', status: null, reason: reason ?? '', requests: 1, message: `${sourceKey} line ${line}`, request_id: null, bytes: Buffer.byteLength(text ?? ''), ip: null, body_prefix: (text ?? '').slice(0, linePrefixChars) });
  }
  if (more > 0) records.push({ at: at.toISOString(), kind: 'aggregate', status: null, reason: 'rejected rows', requests: more, message: `${more} more rejected rows of ${summary.source_key}, past the ${max} stored one by one (all are in ${key})`, request_id: null, bytes: 0, ip: null, body_prefix: null });
  return records;
}
