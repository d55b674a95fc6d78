import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { sessionId } from '../../core/collector/session.js';
import { readConfig } from '../../core/config.js';
import type { Collection } from '../../core/model/collection.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';
import { rejectedLineRecords } from '../../core/rejections/rejected-lines.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { ParseThread, ParseThreadError } from '../../functions/local/parse-thread.js';
import { fixtureJson } from '../support/fixtures.js';
import { listKeys, readObject } from '../support/streams.js';

// The built script, as `ferry serve` runs it (npm test builds first).
const script = new URL('../../dist/local/parse-worker.js', import.meta.url);

describe('the parse thread parses the raw objects it has in hand together', () => {
  let dir: string;
  let store: FsBlobStore;
  let parser: ParseThread;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-parse-batches-'));
    store = new FsBlobStore(dir);
    parser = new ParseThread(script, { storeRoot: dir, rulesFiles: [], parser: readConfig({}).parser, logLevel: 'error' });
  });
  afterEach(async () => {
    await parser.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A raw object of one collection (its own device), one payload beyond year 9999 when `spoiled`. */
  async function putRaw(device: string, spoiled = false): Promise<string> {
    const base = fixtureJson<Collection>('collections/ios-two-events.json');
    const c = { ...base, device_id: device, payloads: spoiled ? [base.payloads[0]!, { ...base.payloads[1]!, at: '999999999999' }] : base.payloads };
    const collection = { ...c, session: sessionId({ ...c, env: 0 }) };
    const at = new Date('2026-11-25T10:00:00Z');
    const record: RawRecord = { received_at: at.toISOString(), sent_at: null, ip: '203.0.113.7', collection };
    const key = rawObjectKey(at, timeSortableIds.next(at));
    await store.put(key, gzipSync(`${JSON.stringify(record)}\n`));
    return key;
  }

  it('answers each request with its own summary or failure, from shared outputs', async () => {
    const keys = [await putRaw('a'), await putRaw('b', true), await putRaw('c'), await putRaw('d', true), await putRaw('e')];
    const gone = rawObjectKey(new Date('2026-11-25T10:00:00Z'), timeSortableIds.next(new Date('2026-11-25T10:00:00Z')));
    const answers = await Promise.all([...keys, gone].map((key) => parser.parse({ key }).catch((err: unknown) => err)));

    const summaries = answers.slice(0, keys.length) as ParseSummary[];
    expect(summaries.map((s) => s.source_key)).toEqual(keys);
    expect(summaries.map((s) => s.rows.events)).toEqual([2, 1, 2, 1, 2]);
    expect(summaries.map((s) => s.rejected_records ?? 0)).toEqual([0, 1, 0, 1, 0]);
    expect(answers[keys.length]).toBeInstanceOf(ParseThreadError);
    expect((answers[keys.length] as ParseThreadError).fields).toMatchObject({ key: gone, error_code: 'not_found' });

    // Fewer outputs than inputs: one events file per batch, each row still naming its input.
    const files = await listKeys(store, 'parsed/events/');
    expect(files.length).toBeLessThan(keys.length);
    const rows = (await Promise.all(files.map(async (f) => gunzipSync(await readObject(store, f)).toString().trim().split('\n')))).flat();
    expect(rows).toHaveLength(8);
    for (const key of keys) expect(rows.filter((r) => r.includes(`,${key},`))).toHaveLength(summaries[keys.indexOf(key)]!.rows.events!);

    // The rejected file is shared too: each input's rejections are its own.
    const rejected = await rejectedLineRecords(store, summaries[1]!, new Date());
    expect(rejected.map((r) => r.message)).toEqual([`${keys[1]} line 1`]);
  }, 60_000);

  it('parses the bytes it is handed with a raw object, not the file', async () => {
    const key = await putRaw('on-disk');
    const { etag } = await store.head(key);
    const other = await putRaw('in-hand');
    const body = await readObject(store, other);
    const summary = await parser.parse({ key, etag, body });
    expect(summary).toMatchObject({ source_key: key, source_etag: etag, rows: { events: 2 } });
    const rows = (await Promise.all((await listKeys(store, 'parsed/events/')).map(async (f) => gunzipSync(await readObject(store, f)).toString()))).join('');
    expect(rows).toContain('in-hand');
    expect(rows).not.toContain('on-disk');
  }, 60_000);
});
