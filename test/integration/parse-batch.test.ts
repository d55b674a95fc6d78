import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { sessionId } from '../../core/collector/session.js';
import { rawObjectKey, type RawRecord } from '../../core/model/raw-record.js';
import { parseBatch } from '../../core/parser/parse-batch.js';
import { parseObject, type ParseInput } from '../../core/parser/parse-object.js';
import { inputSummaries, type BatchSummary, type ParseSummary } from '../../core/parser/parse-summary.js';
import type { BlobInfo } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { fixtureJson } from '../support/fixtures.js';
import { collect, readObject } from '../support/streams.js';

/** `count` raw objects as the collector writes them, one collection of two events each, received an hour apart at most. */
async function rawObjects(store: MemoryBlobStore, count: number, day = '2026-11-23'): Promise<BlobInfo[]> {
  const base = fixtureJson<RawRecord['collection']>('collections/ios-two-events.json');
  const infos: BlobInfo[] = [];
  for (let i = 0; i < count; i++) {
    const receivedAt = new Date(Date.parse(`${day}T10:00:00Z`) + i * 1000);
    const collection = { ...base, device_id: `batch-device-${i}` };
    collection.session = sessionId({ ...collection, env: 0 });
    const record: RawRecord = { received_at: receivedAt.toISOString(), sent_at: null, ip: '203.0.113.9', collection };
    infos.push(await store.put(rawObjectKey(receivedAt, timeSortableIds.next(receivedAt)), gzipSync(`${JSON.stringify(record)}\n`)));
  }
  return infos;
}

const asInputs = (infos: readonly BlobInfo[]): ParseInput[] => infos.map((i) => ({ key: i.key, etag: i.etag, size: i.size }));

async function csvLines(store: MemoryBlobStore, prefix: string): Promise<string[]> {
  const lines: string[] = [];
  for (const info of await collect(store.list(prefix))) lines.push(...gunzipSync(await readObject(store, info.key)).toString('utf8').split('\n').filter(Boolean));
  return lines.sort();
}

describe('parseBatch: many small inputs per invocation', () => {
  it('writes one events file and one summary for 40 raw objects, with the same rows and per-input counts as parsing each alone', async () => {
    const batched = new MemoryBlobStore();
    const infos = await rawObjects(batched, 40);
    const alone = new MemoryBlobStore();
    for (const info of infos) alone.seed(info, await readObject(batched, info.key));

    const result = await parseBatch({ store: batched, logger: silentLogger }, asInputs(infos));
    expect(result).toMatchObject({ skipped: [], ignored: [], superseded: [], failed: [] });
    expect(result.parsed.sort()).toEqual(infos.map((i) => i.key).sort());
    const parsed = await collect(batched.list('parsed/'));
    const summaries = await collect(batched.list('summaries/'));
    expect([parsed.length, summaries.length]).toEqual([1, 1]);
    expect(parsed[0]!.metadata).toMatchObject({ ferry_rows: '80' });
    expect(summaries[0]!.metadata).toMatchObject({ ferry_rows: '40' });

    for (const info of infos) await parseObject({ store: alone, logger: silentLogger }, { key: info.key, etag: info.etag });
    expect(await csvLines(batched, 'parsed/events/')).toEqual(await csvLines(alone, 'parsed/events/'));
    const batchSummary = JSON.parse((await readObject(batched, summaries[0]!.key)).toString('utf8')) as BatchSummary;
    expect(batchSummary.outputs).toEqual([parsed[0]!.key]);
    const aloneSummaries: ParseSummary[] = [];
    const aloneKeys = new Map<string, string>();
    for (const s of await collect(alone.list('summaries/'))) {
      for (const entry of inputSummaries((await readObject(alone, s.key)).toString('utf8'))) {
        aloneSummaries.push(entry);
        aloneKeys.set(entry.source_key, s.key);
      }
    }
    const counts = (list: ParseSummary[]) => list.map(({ outputs: _o, summary_key: _k, ...rest }) => rest).sort((a, b) => a.source_key.localeCompare(b.source_key));
    expect(counts(batchSummary.batch)).toEqual(counts(aloneSummaries));
    // Each entry names the summary its input would have had alone: source_counts keeps a row per input version.
    for (const entry of batchSummary.batch) expect(entry.summary_key).toBe(aloneKeys.get(entry.source_key));
  });

  it('publishes a batch of one exactly as parseObject does', async () => {
    const store = new MemoryBlobStore();
    const [info] = await rawObjects(store, 1);
    const other = new MemoryBlobStore();
    other.seed(info!, await readObject(store, info!.key));
    await parseBatch({ store, logger: silentLogger }, asInputs([info!]));
    await parseObject({ store: other, logger: silentLogger }, { key: info!.key, etag: info!.etag });
    for (const prefix of ['parsed/', 'summaries/']) {
      const mine = await collect(store.list(prefix));
      expect(mine.map((i) => i.key)).toEqual((await collect(other.list(prefix))).map((i) => i.key));
      for (const i of mine) expect((await readObject(store, i.key)).equals(await readObject(other, i.key))).toBe(true);
    }
  });

  it('writes the same objects when the same batch is delivered again, in any order', async () => {
    const store = new MemoryBlobStore();
    const infos = await rawObjects(store, 12);
    await parseBatch({ store, logger: silentLogger }, asInputs(infos));
    const first = new Map<string, Buffer>();
    for (const i of await collect(store.list('parsed/'))) first.set(i.key, await readObject(store, i.key));
    await parseBatch({ store, logger: silentLogger }, asInputs([...infos].reverse()));
    const again = await collect(store.list('parsed/'));
    expect(again.map((i) => i.key)).toEqual([...first.keys()]);
    for (const i of again) expect((await readObject(store, i.key)).equals(first.get(i.key)!)).toBe(true);
  });

  it('reports a member that is gone, replaced or unreadable alone, and publishes the others', async () => {
    const store = new MemoryBlobStore();
    const infos = await rawObjects(store, 5);
    await store.delete(infos[0]!.key);
    await store.put(infos[1]!.key, gzipSync('{"replaced": true}\n'));
    const result = await parseBatch({ store, logger: silentLogger }, asInputs(infos));
    expect(result.ignored).toEqual([infos[0]!.key]);
    expect(result.superseded).toEqual([infos[1]!.key]);
    expect(result.parsed.sort()).toEqual(infos.slice(2).map((i) => i.key).sort());
    const [summary] = await collect(store.list('summaries/'));
    const entries = inputSummaries((await readObject(store, summary!.key)).toString('utf8'));
    expect(entries.map((e) => e.source_key).sort()).toEqual(infos.slice(2).map((i) => i.key).sort());
  });

  it('keeps one output set per date partition, and parses a large input alone', async () => {
    const store = new MemoryBlobStore();
    const monday = await rawObjects(store, 3, '2026-11-23');
    const tuesday = await rawObjects(store, 2, '2026-11-24');
    const result = await parseBatch({ store, logger: silentLogger, batchInputBytes: 0 }, asInputs([...monday, ...tuesday]));
    expect(result.failed).toEqual([]);
    const parsed = (await collect(store.list('parsed/events/'))).map((i) => i.key.split('/')[2]);
    expect(parsed).toEqual(['2026-11-23', '2026-11-24']);
    // A server log above the size limit gets outputs of its own.
    const log = await store.put('logs/nginx/2026/11/23/api.log', Buffer.from('not a log line\n'));
    const logs = await parseBatch({ store, logger: silentLogger, batchInputBytes: 4 }, [{ key: log.key, etag: log.etag, size: log.size }]);
    expect(logs).toMatchObject({ ignored: [log.key] }); // no rules file handles logs/ here
  });
});
