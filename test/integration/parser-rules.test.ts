import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { DeadlineError } from '../../core/errors.js';
import { parseObject, type ParseSummary } from '../../core/parser/parse-object.js';
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
    // The name starts with the time the log arrived (its last-modified), so names in a partition sort by arrival.
    expect(parsedKey).toMatch(/^parsed\/api_requests\/2026-11-23\/[0-9A-HJKMNP-TV-Z]{10}-api-1\.access-[0-9a-f]{16}\.csv\.gz$/);
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
    const sequential: ParseSummary[] = [];
    for (const input of inputs) sequential.push(await parseObject({ store: alone, logger: silentLogger, ruleSets }, { key: input.key }));
    const concurrent = await Promise.all(inputs.map((input) => parseObject({ store: together, logger: silentLogger, ruleSets }, { key: input.key })));
    // Output names start with each store's upload time of the input; everything else is the same.
    const arrivalFree = (summary: (typeof sequential)[number]) => ({ ...summary, outputs: summary.outputs.map((k) => k.replace(/\/[0-9A-HJKMNP-TV-Z]{10}-/, '/')) });
    expect(concurrent.map(arrivalFree)).toEqual(sequential.map(arrivalFree));
    for (const summary of sequential) expect(summary.rejected).toBeLessThan(summary.lines);
    for (let i = 0; i < sequential.length; i++) {
      for (let j = 0; j < sequential[i]!.outputs.length; j++) {
        expect((await readObject(together, concurrent[i]!.outputs[j]!)).equals(await readObject(alone, sequential[i]!.outputs[j]!))).toBe(true);
      }
    }
  });
});

describe('parseObject with log lines as nginx 1.22 and application loggers write them', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-rules-edges-'));
    store = new FsBlobStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const parse = async (key: string, fixture: string, rules: string) => {
    await store.put(key, gzipSync(fixtureBytes(fixture)));
    const summary = await parseObject({ store, logger: silentLogger, ruleSets: await loadRuleSets([repoPath(rules)], { clockSkewThresholdS: 300 }) }, { key });
    const [parsedKey, rejectedKey] = summary.outputs;
    const rows = readCsv(gunzipSync(await readObject(store, parsedKey!)).toString('utf8'));
    const rejected = rejectedKey === undefined ? [] : readCsv(gunzipSync(await readObject(store, rejectedKey)).toString('utf8'));
    return { summary, rows, rejected };
  };

  it('reads leading zeros, a hostile $remote_user, surplus spaces, "" apart from -, and replaces NUL and invalid UTF-8', async () => {
    const key = 'logs/nginx/2026/11/23/api-edges.access.log.gz';
    const { summary, rows, rejected } = await parse(key, 'logs/api-nginx-edge-cases.log', 'docs/rules/api-nginx.yml');
    // Values with characters replaced: the request on lines 9, 10 and 12, the user on line 11;
    // not the user agent of line 19, which is ignored (an OPTIONS request), so nothing of it is stored.
    expect(summary).toMatchObject({ lines: 19, accepted: 16, ignored: 1, rejected: 2, replaced: 4, rows: { api_requests: 16 } });
    const columns = ['time', 'event', 'object_id', 'method', 'path', 'status', 'request_time', 'upstream_response_time', 'bytes_sent', 'client_ip', 'user_agent', 'host', 'source_key', 'line_number'];
    const byLine = new Map(rows.map((r) => [Number(r[13]), Object.fromEntries(columns.map((c, i) => [c, r[i]]))]));
    const pick = (line: number, names: string[]) => Object.fromEntries(names.map((n) => [n, byLine.get(line)?.[n]]));
    const shown = ['event', 'object_id', 'method', 'path', 'status', 'time'];
    expect(Object.fromEntries([...byLine.keys()].map((n) => [n, pick(n, shown)]))).toEqual({
      1: { event: 'Task.Read', object_id: '42', method: 'GET', path: '/api/v1/tasks/00000000000000000042', status: '200', time: '2026-11-23 10:00:01' },
      2: { event: 'Task.Read', object_id: '43', method: 'GET', path: '/api/v1/tasks/43', status: '401', time: '2026-11-23 10:00:02' },
      3: { event: 'Task.Read', object_id: '44', method: 'GET', path: '/api/v1/tasks/44', status: '401', time: '2026-11-23 10:00:03' },
      4: { event: 'Task.Read', object_id: '51', method: 'GET', path: '/api/v1/tasks/51', status: '200', time: '2026-11-23 10:00:04' },
      5: { event: 'Task.Read', object_id: '52', method: 'GET', path: '/api/v1/tasks/52', status: '200', time: '2026-11-23 10:00:05' },
      6: { event: 'Task.Update', object_id: '53', method: 'PATCH', path: '/api/v1/tasks/53', status: '200', time: '2026-11-23 10:00:06' },
      7: { event: 'List.Read', object_id: '7', method: 'GET', path: '/api/v1/lists/7', status: '200', time: '2026-11-23 10:00:07' },
      8: { event: 'List.Read', object_id: '8', method: 'GET', path: '/api/v1/lists/8', status: '200', time: '2026-11-23 10:00:08' },
      9: { event: 'Task.Read', object_id: '54', method: 'GET', path: '/api/v1/tasks/54', status: '400', time: '2026-11-23 10:00:09' },
      10: { event: 'Api.tasks.GET', object_id: null, method: 'GET', path: '/api/v1/tasks/55\uFFFD\uFFFD', status: '400', time: '2026-11-23 10:00:10' },
      11: { event: 'Task.Read', object_id: '56', method: 'GET', path: '/api/v1/tasks/56', status: '401', time: '2026-11-23 10:00:11' },
      12: { event: 'Task.Read', object_id: '57', method: 'GET', path: '/api/v1/tasks/57', status: '200', time: '2026-11-23 10:00:12' },
      15: { event: 'Task.Read', object_id: '9223372036854775807', method: 'GET', path: '/api/v1/tasks/000009223372036854775807', status: '404', time: '2026-11-23 10:00:15' },
      16: { event: 'Task.Delete', object_id: '58', method: 'DELETE', path: '/api/v1/tasks/58', status: '204', time: '2026-11-23 10:00:16' },
      17: { event: 'Task.Create', object_id: null, method: 'POST', path: '/api/v1/tasks', status: '201', time: '2026-11-23 10:00:17' },
      18: { event: 'Task.Update', object_id: '59', method: 'PUT', path: '/api/v1/tasks/59', status: '200', time: '2026-11-23 10:00:18' },
    });
    // An empty quoted field is an empty string; `-` is NULL.
    expect(pick(7, ['user_agent'])).toEqual({ user_agent: '' });
    expect(pick(8, ['user_agent'])).toEqual({ user_agent: null });
    expect(pick(17, ['user_agent', 'host', 'request_time'])).toEqual({ user_agent: '', host: null, request_time: null });
    // A U+FFFD the client really sent stays and is not counted; an invalid byte becomes one.
    expect(pick(12, ['user_agent'])).toEqual({ user_agent: 'Mozilla/5.0 café \uFFFD' });
    expect(rejected.map((r) => [r[1], r[2]])).toEqual([
      ['13', 'column object_id: "18446744073709551616" is not a 64-bit integer'],
      ['14', 'column object_id: "0009223372036854775808" is not a 64-bit integer'],
    ]);
  });

  it('replaces NUL and lone surrogates in JSON lines, counts them, and keeps "" apart from null', async () => {
    const key = 'logs/app/2026/11/23/app-edges.log.gz';
    const { summary, rows } = await parse(key, 'logs/app-json-edge-cases.log', 'docs/rules/app-json.yml');
    expect(summary).toMatchObject({ lines: 5, accepted: 4, ignored: 1, rejected: 0, replaced: 4, rows: { app_events: 4 } });
    const columns = ['time', 'level', 'event', 'user_id', 'method', 'path', 'status', 'duration_ms', 'trace_id', 'context', 'source_key', 'line_number'];
    const byLine = Object.fromEntries(rows.map((r) => [Number(r[11]), Object.fromEntries(columns.slice(2, 10).map((c) => [c, r[columns.indexOf(c)]]))]));
    expect(byLine).toEqual({
      1: { event: 'Task.Saved', user_id: 'u-\uFFFD-7', method: 'PUT', path: '/api/v1/tasks/42', status: '200', duration_ms: '8.2', trace_id: '0af7651916cd43dd8448eb211c80319c', context: '{"title":"a\uFFFDb","fields":["title"]}' },
      2: { event: 'Log.warn', user_id: 'u-8', method: null, path: null, status: null, duration_ms: '1520.5', trace_id: null, context: '{"note":"\uFFFD cut emoji","ok":"😀","k\uFFFDey":1}' },
      3: { event: 'Task.Saved', user_id: '', method: 'PUT', path: '/api/v1/tasks/43', status: null, duration_ms: '7.9', trace_id: '', context: null },
      4: { event: 'Task.Saved', user_id: null, method: 'PUT', path: '/api/v1/tasks/44', status: '200', duration_ms: '6.1', trace_id: null, context: null },
    });
  });
});
