import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { DeadlineError } from '../../core/errors.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { listKeys, readObject } from '../support/streams.js';

/** Parses CSV written by the parser (RFC 4180, unquoted empty = NULL) back into rows. */
function readCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        value += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          value += '"';
          i++;
        } else break;
      }
      row.push(value);
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      row.push(end === i ? null : text.slice(i, end));
      i = end;
    }
    if (text[i] === ',') i++;
    else if (text[i] === '\n') {
      rows.push(row);
      row = [];
      i++;
    }
  }
  return rows;
}

describe('parseObject with the example nginx rules (docs/rules/api-nginx.yml)', () => {
  let dir: string;
  let store: FsBlobStore;
  const key = 'logs/nginx/2026/11/23/api-1.access.log.gz';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-rules-'));
    store = new FsBlobStore(dir);
    await store.put(key, gzipSync(fixtureBytes('logs/api-nginx.log')));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const ruleSets = () => loadRuleSets([repoPath('docs/rules/api-nginx.yml')], { clockSkewThresholdS: 300 });

  it('classifies each line, accounts for every one, and rejects bad lines with reasons', async () => {
    const summary = await parseObject({ store, logger: silentLogger, ruleSets: await ruleSets() }, { key });
    expect(summary).toMatchObject({
      source: 'api_nginx', date: '2026-11-23', lines: 23, accepted: 12, ignored: 8, rejected: 3,
      ignored_by: { blank: 1, filtered: 0, rule: 5, unmatched: 2 }, rows: { api_requests: 12 },
    });
    expect(summary.accepted + summary.ignored + summary.rejected).toBe(summary.lines);
    const [parsedKey, rejectedKey] = summary.outputs;
    expect(parsedKey).toMatch(/^parsed\/api_requests\/2026-11-23\/api-1\.access-[0-9a-f]{16}\.csv\.gz$/);
    expect((await store.head(parsedKey!)).metadata.ferry_rows).toBe('12');

    const rows = readCsv(gunzipSync(await readObject(store, parsedKey!)).toString('utf8'));
    const columns = ['time', 'event', 'object_id', 'method', 'path', 'status', 'request_time', 'upstream_response_time', 'bytes_sent', 'client_ip', 'user_agent', 'host', 'source_key', 'line_number'];
    const byLine = new Map(rows.map((r) => [Number(r[13]), Object.fromEntries(columns.map((c, i) => [c, r[i]]))]));
    expect([...byLine.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 19, 20]);
    expect(byLine.get(1)).toEqual({
      time: '2026-11-23 09:00:01', event: 'Task.Read', object_id: '123', method: 'GET', path: '/api/v1/tasks/123', status: '200', request_time: '0.012',
      upstream_response_time: '0.010', bytes_sent: '512', client_ip: '203.0.113.9',
      user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      host: 'api.example.com', source_key: key, line_number: '1',
    });
    expect(byLine.get(2)).toMatchObject({ event: 'Task.Update', object_id: '123', client_ip: '2001:db8:85a3::8a2e:370:7334', upstream_response_time: '0.032', path: '/api/v1/tasks/123' });
    expect(Object.fromEntries([...byLine].map(([n, r]) => [n, r.event]))).toEqual({
      1: 'Task.Read', 2: 'Task.Update', 3: 'Task.Create', 4: 'Task.Delete', 5: 'Task.List', 6: 'Comment.Create', 7: 'List.Read', 8: 'List.Tasks',
      9: 'User.Login', 10: 'Api.reminders.GET', 19: 'Task.Read', 20: 'Task.Update',
    });
    expect(byLine.get(4)).toMatchObject({ upstream_response_time: null, status: '204' });
    expect(byLine.get(6)?.user_agent).toBe('Mozilla/5.0 "quoted" agent');
    // A plain `combined` line (second dialect) has no timings or host.
    expect(byLine.get(19)).toMatchObject({ request_time: null, upstream_response_time: null, host: null, time: '2026-11-23 09:00:11' });
    expect(byLine.get(20)).toMatchObject({ user_agent: 'café-client/1.0', time: '2026-11-23 09:00:12', object_id: '125' });

    const rejected = readCsv(gunzipSync(await readObject(store, rejectedKey!)).toString('utf8'));
    expect(rejected.map((r) => [r[1], r[2]])).toEqual([
      ['21', 'no dialect matched the line (tried api_timed, nginx_combined)'],
      ['22', 'no dialect matched the line (tried api_timed, nginx_combined)'],
      ['23', 'column object_id: "99999999999999999999" is not a 64-bit integer'],
    ]);
    expect(rejected[0]![3]).toBe('this is not an access log line');
  });

  it('gives byte-identical outputs under the same keys when triggered twice, plain or gzip', async () => {
    const options = { store, logger: silentLogger, ruleSets: await ruleSets() };
    const first = await parseObject(options, { key });
    const bytes = await Promise.all(first.outputs.map((k) => readObject(store, k)));
    const second = await parseObject(options, { key });
    expect(second).toEqual(first);
    expect(await Promise.all(second.outputs.map((k) => readObject(store, k)))).toEqual(bytes);
    expect(await listKeys(store, 'parsed/')).toEqual([first.outputs[0]]);
    // The same log stored uncompressed under another name parses to the same rows.
    await store.put('logs/nginx/2026/11/23/api-2.access.log', fixtureBytes('logs/api-nginx.log'));
    const plain = await parseObject(options, { key: 'logs/nginx/2026/11/23/api-2.access.log' });
    expect(plain.rows).toEqual(first.rows);
  });

  it('abandons a parse near the deadline without publishing anything', async () => {
    let left = 60_000;
    const options = { store, logger: silentLogger, ruleSets: await ruleSets(), remainingMs: () => (left -= 30_000), reserveMs: 10_000 };
    await expect(parseObject(options, { key })).rejects.toBeInstanceOf(DeadlineError);
    expect(await listKeys(store, 'parsed/')).toEqual([]);
    expect(await listKeys(store, 'summaries/')).toEqual([]);
    expect(await listKeys(store, 'rejected/')).toEqual([]);
  });

  it('refuses a key no rules file handles', async () => {
    await store.put('uploads/x.log', Buffer.from('x\n'));
    await expect(parseObject({ store, logger: silentLogger, ruleSets: await ruleSets() }, { key: 'uploads/x.log' })).rejects.toThrow(/no rules file handles uploads\/x\.log/);
  });
});

describe('one compiled rule set shared by concurrent parses', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-rules-shared-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('gives every input the same bytes as parsing it alone', async () => {
    // Plans keep per-line state (the reader that read the line, the JSON object awaiting
    // `complete`, time caches); inputs of many chunks make the parses interleave between chunks.
    const inputs = [
      { key: 'logs/nginx/2026/11/23/a.log', text: fixtureBytes('logs/api-nginx.log').toString('utf8').repeat(400) },
      { key: 'logs/app/2026/11/23/b.log', text: fixtureBytes('logs/app-json.log').toString('utf8').repeat(400) },
      { key: 'logs/nginx/2026/11/23/c.log', text: fixtureBytes('logs/api-nginx.log').toString('utf8').split('\n').reverse().join('\n').repeat(400) },
      { key: 'logs/app/2026/11/23/d.log', text: fixtureBytes('logs/app-json.log').toString('utf8').split('\n').reverse().join('\n').repeat(400) },
    ];
    expect(Math.min(...inputs.map((i) => i.text.length))).toBeGreaterThan(4 * 64 * 1024);
    const ruleSets = await loadRuleSets([repoPath('docs/rules/api-nginx.yml'), repoPath('docs/rules/app-json.yml')], { clockSkewThresholdS: 300 });
    const alone = new FsBlobStore(join(dir, 'alone'));
    const together = new FsBlobStore(join(dir, 'together'));
    for (const store of [alone, together]) for (const input of inputs) await store.put(input.key, Buffer.from(input.text));
    const sequential = [];
    for (const input of inputs) sequential.push(await parseObject({ store: alone, logger: silentLogger, ruleSets }, { key: input.key }));
    const concurrent = await Promise.all(inputs.map((input) => parseObject({ store: together, logger: silentLogger, ruleSets }, { key: input.key })));
    expect(concurrent).toEqual(sequential);
    for (const summary of sequential) {
      expect(summary.rejected).toBeLessThan(summary.lines);
      for (const output of summary.outputs) expect((await readObject(together, output)).equals(await readObject(alone, output))).toBe(true);
    }
  });
});
