import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { findUnparsed, findUnparsedLogs, findUnparsedRaw } from '../../core/parser/find-unparsed.js';
import { rawObjectKey } from '../../core/model/raw-record.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { CountingBlobStore } from '../../bench/support/counting-blob-store.js';
import { parseInputs } from '../../core/parser/parse-inputs.js';
import { lostNotificationAfterMs, parseLostInputs } from '../../core/parser/parse-lost-inputs.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { parseBatch } from '../../core/parser/parse-batch.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { fixtureBytes, fixtureJson, repoPath } from '../support/fixtures.js';
import { collect, listKeys, readObject } from '../support/streams.js';

const nginxRules = () => loadRuleSets([repoPath('docs/rules/api-nginx.yml')], { clockSkewThresholdS: 300 });

function rawLine(fixture: string, receivedAt = '2026-11-23T10:00:00.000Z'): string {
  return JSON.stringify({ received_at: receivedAt, sent_at: null, ip: '198.51.100.7', collection: fixtureJson(`collections/${fixture}.json`) });
}

describe('parseObject (collector raw objects)', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-parse-'));
    store = new FsBlobStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes byte-identical outputs under the same keys when triggered twice', async () => {
    const key = 'raw/events/2026/11/23/10/01ABC.ndjson.gz';
    await store.put(key, gzipSync([rawLine('ios-two-events'), rawLine('android-env-number')].join('\n') + '\n'));
    const first = await parseObject({ store, logger: silentLogger }, { key });
    const firstBytes = await Promise.all(first.outputs.map((k) => readObject(store, k)));
    const second = await parseObject({ store, logger: silentLogger }, { key });
    expect(second).toEqual(first);
    expect(await Promise.all(second.outputs.map((k) => readObject(store, k)))).toEqual(firstBytes);
    expect(await listKeys(store, 'parsed/')).toEqual(first.outputs);
    const head = await store.head(first.outputs[0]!);
    expect(head.metadata).toMatchObject({ ferry_rows: '4', ferry_source_key: encodeURIComponent(key) });
  });

  it('lists the request ids of the lines in the summary, bounded, and reads raw lines written before request ids', async () => {
    const key = 'raw/events/2026/11/23/10/01REQ.ndjson.gz';
    const withId = (i: number) => JSON.stringify({ ...JSON.parse(rawLine('ios-two-events')), request_id: `req-${i}` });
    // An old line (no request_id) first, then 150 lines with one: 100 listed, every one counted.
    await store.put(key, gzipSync([rawLine('android-env-number'), ...Array.from({ length: 150 }, (_, i) => withId(i))].join('\n') + '\n'));
    const summary = await parseObject({ store, logger: silentLogger }, { key });
    expect(summary).toMatchObject({ lines: 151, accepted: 151, rejected: 0 });
    expect(summary.request_ids).toEqual({ count: 150, first: Array.from({ length: 100 }, (_, i) => `req-${i}`) });
    const [summaryKey] = await listKeys(store, 'summaries/');
    expect(JSON.parse((await readObject(store, summaryKey!)).toString()).request_ids.count).toBe(150);
    // The rows are those of the same lines without ids: the id is not an events column.
    const oldKey = 'raw/events/2026/11/23/10/01OLD.ndjson.gz';
    await store.put(oldKey, gzipSync([rawLine('android-env-number'), ...Array.from({ length: 150 }, () => rawLine('ios-two-events'))].join('\n') + '\n'));
    const old = await parseObject({ store, logger: silentLogger }, { key: oldKey });
    expect(old).not.toHaveProperty('request_ids');
    expect({ ...old.rows, lines: old.lines }).toEqual({ ...summary.rows, lines: summary.lines });
    const events = (s: typeof summary) => readObject(store, s.outputs.find((k) => k.startsWith('parsed/events/'))!).then((b) => gunzipSync(b).toString('utf8').replaceAll(oldKey, key));
    expect(await events(old)).toBe(await events(summary));
  });

  it('tells onParsed of each input once its outputs are published, alone or in a batch (how the clouds count parses)', async () => {
    const heard: [ParseSummary, number][] = [];
    const onParsed = (summary: ParseSummary, seconds: number) => heard.push([summary, seconds]);
    const keys = ['raw/events/2026/11/23/10/01HOOKA.ndjson.gz', 'raw/events/2026/11/23/10/01HOOKB.ndjson.gz'];
    for (const key of keys) await store.put(key, gzipSync(`${rawLine('ios-two-events')}\n`));
    const alone = await parseObject({ store, logger: silentLogger, onParsed }, { key: keys[0]! });
    expect(heard).toEqual([[alone, expect.any(Number)]]);
    heard.length = 0;
    const etags = await Promise.all(keys.map(async (key) => ({ key, etag: (await store.head(key)).etag, size: 1 })));
    expect((await parseBatch({ store, logger: silentLogger, onParsed }, etags)).parsed).toEqual(keys);
    expect(heard.map(([s, seconds]) => [s.source_key, s.lines, seconds >= 0])).toEqual(keys.map((key) => [key, 1, true]));
    // Nothing is heard of an input whose publishing failed.
    heard.length = 0;
    const failing = Object.assign(Object.create(store) as FsBlobStore, { put: () => Promise.reject(new Error('disk on fire')) });
    await expect(parseObject({ store: failing, logger: silentLogger, onParsed }, { key: keys[1]! })).rejects.toThrow();
    expect(heard).toEqual([]);
  });

  it('rejects bad lines with their line number and reason, and the accounting balances', async () => {
    const key = 'raw/events/2026/11/23/11/01BAD.ndjson.gz';
    const lines = [
      rawLine('ios-two-events'),
      '{"received_at": "2026-11-23T10:00:00Z", "collection": {"device_id": "d"}}',
      'not json at all',
      '',
      JSON.stringify({ received_at: '2026-11-23T10:00:00Z', sent_at: null, ip: null, collection: { ...fixtureJson('collections/web-quoted-values.json'), payloads: [{ at: '99999999999999', event: 'e', nr: 1 }] } }),
      'x'.repeat(5000),
      rawLine('web-quoted-values'),
    ];
    await store.put(key, gzipSync(lines.join('\n')));
    const summary = await parseObject({ store, logger: silentLogger, maxLineBytes: 4096 }, { key });
    expect(summary).toMatchObject({ lines: 7, accepted: 2, ignored: 1, rejected: 4, rows: { events: 3 } });
    expect(summary.accepted + summary.ignored + summary.rejected).toBe(summary.lines);
    const rejectedKey = summary.outputs.find((k) => k.startsWith('rejected/'))!;
    const rejected = gunzipSync(await readObject(store, rejectedKey)).toString('utf8').trimEnd().split('\n');
    expect(rejected.map((r) => r.split(',').slice(1, 3))).toEqual([
      ['2', 'client_id: is required'],
      ['3', 'no dialect matched the line (tried ferry_collector)'],
      ['5', 'payloads[0].at 99999999999999 is beyond year 9999'],
      ['6', 'line longer than 4096 bytes'],
    ]);
    const summaries = await listKeys(store, 'summaries/');
    expect(summaries).toHaveLength(1);
    expect(JSON.parse((await readObject(store, summaries[0]!)).toString())).toEqual(summary);
  });

  it('finds inputs whose notification was lost, and none once parsed', async () => {
    await store.put('raw/events/2026/11/23/12/01A.ndjson.gz', gzipSync(rawLine('ios-two-events')));
    await store.put('raw/events/2026/11/23/12/01B.ndjson.gz', Buffer.from(rawLine('android-env-number')));
    const unparsed: string[] = [];
    for await (const info of findUnparsed(store, 'raw/events/')) unparsed.push(info.key);
    expect(unparsed).toEqual(['raw/events/2026/11/23/12/01A.ndjson.gz', 'raw/events/2026/11/23/12/01B.ndjson.gz']);
    for (const key of unparsed) await parseObject({ store, logger: silentLogger }, { key });
    const left: string[] = [];
    for await (const info of findUnparsed(store, 'raw/events/')) left.push(info.key);
    expect(left).toEqual([]);
  });

  it('finds raw objects with no summary received in the sweep window, listing only its hour partitions from its start on', async () => {
    const hourMs = 3_600_000;
    const t0 = Math.floor(Date.now() / hourMs) * hourMs - 3 * hourMs;
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);
    const key = (minutes: number) => rawObjectKey(at(minutes), timeSortableIds.next(at(minutes)));
    const [before, early, done, lost, later] = [key(-10), key(20), key(40), key(65), key(150)];
    for (const k of [before, early, done, lost, later]) await store.put(k, gzipSync(rawLine('ios-two-events')));
    await parseObject({ store, logger: silentLogger }, { key: done });
    const counting = new CountingBlobStore(store);
    const found = async (writtenBefore: Date) => (await collect(findUnparsedRaw(counting, at(15), writtenBefore))).map((i) => i.key);
    const soon = new Date(Date.now() + 60_000);
    expect(await found(soon)).toEqual([early, lost, later]);
    // Written after `writtenBefore`: its notification may still come.
    expect(await found(new Date(Date.now() - 60_000))).toEqual([]);
    await parseObject({ store, logger: silentLogger }, { key: early });
    counting.take();
    expect(await found(soon)).toEqual([lost, later]);
    // One listing per hour partition from the window's start to now, and one per summaries date.
    const hours = Math.floor(soon.getTime() / hourMs) - t0 / hourMs + 1;
    const dates = new Set([at(20), at(65), at(150)].map((d) => d.toISOString().slice(0, 10))).size;
    expect(counting.counts.lists).toBe(hours + dates);
  });

  it('finds recent log files with no summary under the given prefixes, leaving young, old, raw and other prefixes alone', async () => {
    await store.put('logs/nginx/2026/11/23/done.log', fixtureBytes('logs/api-nginx.log'));
    await store.put('logs/nginx/lost.log', fixtureBytes('logs/api-nginx.log'));
    await store.put('logs/app/elsewhere.log', fixtureBytes('logs/api-nginx.log'));
    await store.put(rawObjectKey(new Date(), '01RAW'), gzipSync(rawLine('ios-two-events')));
    await parseObject({ store, logger: silentLogger, ruleSets: await nginxRules() }, { key: 'logs/nginx/2026/11/23/done.log' });
    const found = async (prefixes: string[], since: Date, before: Date) => (await collect(findUnparsedLogs(store, prefixes, since, before))).map((i) => i.key);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const later = new Date(Date.now() + 60_000);
    expect(await found(['logs/nginx/'], hourAgo, later)).toEqual(['logs/nginx/lost.log']);
    expect(await found(['logs/nginx/', 'raw/', 'logs/app/'], hourAgo, later)).toEqual(['logs/nginx/lost.log', 'logs/app/elsewhere.log']);
    // Written after `before`: its notification may still come. Before `since`: outside the sweep.
    expect(await found(['logs/'], hourAgo, new Date(Date.now() - 60_000))).toEqual([]);
    expect(await found(['logs/'], later, new Date(Date.now() + 120_000))).toEqual([]);
  });

  it('parses log files whose notification was lost, after the raw objects, under the rules files\' prefixes only', async () => {
    const ruleSets = await nginxRules();
    await store.put('logs/nginx/lost.log', fixtureBytes('logs/api-nginx.log'));
    await store.put('logs/unruled/other.log', fixtureBytes('logs/api-nginx.log'));
    const raw = rawObjectKey(new Date(), timeSortableIds.next(new Date()));
    await store.put(raw, gzipSync(rawLine('ios-two-events')));
    const options = { store, logger: silentLogger, ruleSets };
    const later = new Date(Date.now() + lostNotificationAfterMs + 60_000);
    expect(await parseLostInputs(options, later)).toEqual({ parsed: [raw, 'logs/nginx/lost.log'], more: false });
    expect(await parseLostInputs(options, later)).toEqual({ parsed: [], more: false });
    expect(await listKeys(store, 'summaries/')).toHaveLength(2);
  });

  it('parses raw objects whose notification was lost once they are old enough, within a time budget', async () => {
    const key = rawObjectKey(new Date(), timeSortableIds.next(new Date()));
    await store.put(key, gzipSync(rawLine('ios-two-events')));
    const options = { store, logger: silentLogger };
    expect(await parseLostInputs(options, new Date())).toEqual({ parsed: [], more: false });
    const later = new Date(Date.now() + lostNotificationAfterMs + 60_000);
    expect(await parseLostInputs(options, later, 0)).toEqual({ parsed: [], more: true });
    expect(await parseLostInputs(options, later)).toEqual({ parsed: [key], more: false });
    expect(await parseLostInputs(options, later)).toEqual({ parsed: [], more: false });
  });

  it('parses only the notified version: a notification for a replaced version writes nothing, the newer one parses once', async () => {
    // A log shipper uploads the same name twice; the first notification arrives late.
    const key = 'raw/events/2026/11/23/13/01SAME.ndjson.gz';
    const first = await store.put(key, gzipSync(rawLine('ios-two-events')));
    const second = await store.put(key, gzipSync([rawLine('ios-two-events'), rawLine('android-env-number')].join('\n')));
    await expect(parseObject({ store, logger: silentLogger }, { key, etag: first.etag })).rejects.toMatchObject({ code: 'version_changed' });
    expect(await listKeys(store, 'parsed/')).toEqual([]);
    const late = await parseInputs({ store, logger: silentLogger }, [{ key, etag: first.etag }]);
    expect(late).toMatchObject({ parsed: [], superseded: [key], failed: [] });
    expect(await listKeys(store, 'parsed/')).toEqual([]);
    const current = await parseInputs({ store, logger: silentLogger }, [{ key, etag: second.etag }, { key, etag: first.etag }]);
    expect(current).toMatchObject({ parsed: [key], superseded: [key], failed: [] });
    const outputs = await listKeys(store, 'parsed/');
    expect(outputs).toHaveLength(1);
    expect((await store.head(outputs[0]!)).metadata).toMatchObject({ ferry_rows: '4', ferry_source_etag: second.etag });
  });
});
