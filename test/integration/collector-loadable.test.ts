import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { Collector } from '../../core/collector/collector.js';
import { sessionId } from '../../core/collector/session.js';
import { readConfig } from '../../core/config.js';
import type { HttpRequestMessage } from '../../core/http/http-message.js';
import { runLoad } from '../../core/loader/load-run.js';
import { eventTable } from '../../core/model/event-table.js';
import { parseObject } from '../../core/parser/parse-object.js';
import type { ParseSummary } from '../../core/parser/parse-summary.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson, repoPath } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';
import { encodeCollection } from '../support/protobuf-encoder.js';
import { listKeys, readObject } from '../support/streams.js';

// The collector must acknowledge exactly what the parser can turn into rows: every row-level
// rejection the parser has for collector input is either refused at the door (4xx naming the
// field) or, when it can still happen, costs its own payload and nothing else.

const now = new Date('2026-11-23T12:34:56.789Z');
let counter = 0;
const ids = { next: () => `ID${String(++counter).padStart(6, '0')}` };

type Json = Record<string, unknown>;
const ios = (): Json => fixtureJson('collections/ios-two-events.json');
const json = (c: Json) => Buffer.from(JSON.stringify(c));
/** A JSON body whose text holds the escapes `<NUL>` and `<D800>` stand for, as a client writes them. */
const jsonEscaped = (c: Json) => Buffer.from(JSON.stringify(c).replaceAll('<NUL>', '\\u0000').replaceAll('<D800>', '\\ud800'));
const request = (type: 'json' | 'protobuf', body: Uint8Array, headers: Record<string, string> = {}): HttpRequestMessage => ({
  method: 'POST', path: '/api/v1/track', headers: { 'content-type': `application/${type}`, ...headers }, body, remoteAddress: '203.0.113.9',
});
/** A protobuf body: the iOS collection's own fields, then one payload written field by field. */
const protobufPayload = (write: (w: BinaryWriter) => void) => {
  const w = new BinaryWriter();
  w.tag(15, WireType.LengthDelimited).fork();
  write(w);
  w.join();
  return Buffer.concat([encodeCollection({ ...ios(), payloads: [] }), w.finish()]);
};
const withPayloads = (payloads: Json[]) => ({ ...ios(), payloads });

interface Posted {
  status: number;
  body: Json;
  /** Summaries of the raw objects this request stored, parsed by the real parser. */
  summaries: ParseSummary[];
  rejectedRows: string[];
}

describe('the collector accepts exactly what the parser can turn into rows', () => {
  let dir: string;
  let store: FsBlobStore;
  const parsed = new Set<string>();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-loadable-'));
    store = new FsBlobStore(dir);
    parsed.clear();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const collector = (env: Record<string, string> = {}) =>
    new Collector({ store, clock: { now: () => now }, ids, logger: silentLogger, ...readConfig({ FERRY_BATCH_WINDOW_MS: '0', ...env }).collector });

  /** Posts one request, then parses each raw object it stored with the real parser. */
  async function post(req: HttpRequestMessage, env: Record<string, string> = {}): Promise<Posted> {
    const response = await collector(env).handle(req);
    const summaries: ParseSummary[] = [];
    const rejectedRows: string[] = [];
    for (const key of await listKeys(store, 'raw/')) {
      if (parsed.has(key)) continue;
      parsed.add(key);
      const summary = await parseObject({ store, logger: silentLogger, maxLineBytes: readConfig(env).parser.maxLineBytes }, { key });
      summaries.push(summary);
      for (const output of summary.outputs.filter((k) => k.startsWith('rejected/'))) {
        rejectedRows.push(...gunzipSync(await readObject(store, output)).toString('utf8').split('\n').filter(Boolean));
      }
    }
    return { status: response.status, body: response.body === '' ? {} : (JSON.parse(response.body) as Json), summaries, rejectedRows };
  }

  /** A 200 must mean: one raw object, every acknowledged event a row, nothing rejected. */
  function expectAllLoad(result: Posted): void {
    expect(result.status).toBe(200);
    expect(result.summaries).toHaveLength(1);
    const [summary] = result.summaries;
    expect(summary).toMatchObject({ lines: 1, accepted: 1, rejected: 0, rows: { events: result.body.stored } });
    expect(summary!.rejected_records).toBeUndefined();
    expect(result.rejectedRows).toEqual([]);
  }

  function expectRefused(result: Posted, status: number, error: string | RegExp): void {
    expect(result.status).toBe(status);
    expect(result.body.error).toMatch(error);
    expect(result.summaries).toEqual([]); // nothing stored
  }

  // Each row-level rejection the parser has for collector input (the `parser` text is the
  // reason it writes), with the requests that would have led to it and what happens now.
  const rejections: { parser: string; source: string; cases: [string, () => Promise<void>][] }[] = [
    {
      parser: 'payloads[${i}].at ${p.at} is beyond year 9999',
      source: 'core/model/flatten-event.ts',
      cases: [
        ['JSON at 253402300800 beside a valid payload → 400 naming payloads[1].at', async () =>
          expectRefused(await post(request('json', json(withPayloads([{ at: 1700000000, event: 'e', nr: 1 }, { at: 253402300800, event: 'e', nr: 2 }])))), 400, /^payloads\[1\]\.at: 253402300800 is beyond year 9999$/)],
        ['protobuf at 2^64 - 1 → 400', async () =>
          expectRefused(await post(request('protobuf', encodeCollection(withPayloads([{ at: '18446744073709551615', event: 'e', nr: 1 }])))), 400, /^payloads\[0\]\.at: 18446744073709551615 is beyond year 9999$/)],
        ['protobuf at -1 (the same varint) → 400', async () =>
          expectRefused(await post(request('protobuf', protobufPayload((w) => w.tag(1, WireType.Varint).int64(-1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint32(1)))), 400, /^payloads\[0\]\.at: 18446744073709551615 is beyond year 9999$/)],
        ['at 253402300799 (the last second of 9999) → loads', async () => expectAllLoad(await post(request('json', json(withPayloads([{ at: 253402300799, event: 'e', nr: 1 }]))))) ],
      ],
    },
    {
      parser: 'env ${c.env} is not a known environment',
      source: 'core/model/flatten-event.ts',
      cases: [
        ['JSON env 12 → 400', async () => expectRefused(await post(request('json', json({ ...ios(), env: 12 }))), 400, /^env: must be between 0 and 11$/)],
        ['protobuf env 2^32 + 3 (would read as 3) → 400', async () => {
          const w = new BinaryWriter();
          w.tag(6, WireType.Varint).uint64(2n ** 32n + 3n);
          expectRefused(await post(request('protobuf', Buffer.concat([encodeCollection({ ...ios(), env: undefined }), w.finish()]))), 400, /^env: must be between 0 and 11$/);
        }],
      ],
    },
    {
      parser: '${field} is not a valid time',
      source: 'core/model/flatten-event.ts',
      cases: [
        ['received_at is the server clock, sent_at an X-Hamustro-Time past year 9999 → stored without sent_at, loads', async () => {
          const result = await post(request('json', json(ios()), { 'x-hamustro-time': '999999999999' }));
          expectAllLoad(result);
        }],
      ],
    },
    {
      parser: 'received_at is missing',
      source: 'core/parser/dialects/ferry-collector.ts',
      cases: [['every stored line carries received_at → loads', async () => expectAllLoad(await post(request('json', json(ios())))) ]],
    },
    {
      parser: 'not JSON: ${(err as Error).message}',
      source: 'core/parser/dialects/ferry-collector.ts',
      cases: [['every stored line is JSON, whatever the body held → loads', async () => expectAllLoad(await post(request('json', jsonEscaped(withPayloads([{ at: 1, event: 'a"b\\\n<NUL>', nr: 1 }]))))) ]],
    },
    {
      parser: 'payloads[0].nr: must be between 0 and 4294967295 (the JSON decoder, which the parser reads raw lines with)',
      source: 'core/model/decode-collection-json.ts',
      cases: [
        ['protobuf nr 2^32 (would wrap to 0) → 400', async () =>
          expectRefused(await post(request('protobuf', protobufPayload((w) => w.tag(1, WireType.Varint).uint64(1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).uint64(2n ** 32n)))), 400, /^payloads\[0\]\.nr: must be between 0 and 4294967295$/)],
        ['protobuf nr -1 (would become 4294967295) → 400', async () =>
          expectRefused(await post(request('protobuf', protobufPayload((w) => w.tag(1, WireType.Varint).uint64(1n).tag(2, WireType.LengthDelimited).string('e').tag(3, WireType.Varint).int32(-1)))), 400, /^payloads\[0\]\.nr: must be between 0 and 4294967295$/)],
        ['JSON nr 2^32 → 400', async () => expectRefused(await post(request('json', json(withPayloads([{ at: 1, event: 'e', nr: 4294967296 }])))), 400, /^payloads\[0\]\.nr: must be between 0 and 4294967295$/)],
      ],
    },
    {
      parser: 'value contains a NUL character, which warehouses cannot store',
      source: 'core/parser/csv.ts',
      cases: [
        ['JSON NUL in event → replaced, loads', async () => {
          const result = await post(request('json', jsonEscaped(withPayloads([{ at: 1, event: 'Task<NUL>', nr: 1 }]))));
          expectAllLoad(result);
          expect([result.body.replaced, result.summaries[0]!.replaced]).toEqual([1, 1]);
        }],
        ['protobuf NUL in device_model → replaced, loads', async () => {
          const body = Buffer.from(encodeCollection({ ...ios(), device_model: 'iPhone#' }));
          body[body.indexOf('iPhone#') + 6] = 0;
          const result = await post(request('protobuf', body));
          expectAllLoad(result);
          expect([result.body.replaced, result.summaries[0]!.replaced]).toEqual([1, 1]);
        }],
      ],
    },
    {
      parser: 'column ${column.name} is required but has no value',
      source: 'core/parser/column-value.ts',
      cases: [['a payload without event → 400', async () => expectRefused(await post(request('json', json(withPayloads([{ at: 1, nr: 1 }])))), 400, /^payloads\[0\]\.event: is required$/)]],
    },
    {
      parser: 'line longer than ${this.maxLineBytes} bytes',
      source: 'core/parser/line-router.ts',
      cases: [
        ['a protobuf body whose JSON line is over FERRY_MAX_LINE_BYTES (control characters escape to 6 bytes) → 413', async () => {
          const body = encodeCollection(withPayloads([{ at: 1, event: 'e', nr: 1, parameters: [{ name: 'p', value: '\u0001'.repeat(2000) }] }]));
          expectRefused(await post(request('protobuf', body), { FERRY_MAX_LINE_BYTES: '8192' }), 413, /FERRY_MAX_LINE_BYTES=8192$/);
        }],
        ['the same body under the default limit → loads', async () =>
          expectAllLoad(await post(request('protobuf', encodeCollection(withPayloads([{ at: 1, event: 'e', nr: 1, parameters: [{ name: 'p', value: '\u0001'.repeat(2000) }] }])))))],
      ],
    },
  ];

  it.each(rejections.flatMap((r) => r.cases.map(([label, run]) => [`${r.parser}: ${label}`, run] as const)))('%s', async (_label, run) => {
    await run();
  });

  it('the list above holds every rejection the collector dialect and the event flattening can raise', () => {
    const listed = rejections.map((r) => r.parser);
    for (const file of ['core/model/flatten-event.ts', 'core/parser/dialects/ferry-collector.ts']) {
      const source = readFileSync(repoPath(file), 'utf8');
      const reasons = [...source.matchAll(/new ParseError\((?:`([^`]*)`|'([^']*)')/g)].map((m) => m[1] ?? m[2]);
      expect(reasons.length, file).toBeGreaterThan(0);
      for (const reason of reasons) expect(listed, `${file}: "${reason}"`).toContain(reason);
    }
  });

  it('acknowledges only collections that load whole, over 200 generated ones of both encodings', async () => {
    let seed = 19;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const texts = ['', 'plain', 'ünïcødé ✓', '😀', 'a,"b"\n', '\u0001\u001f', '<NUL>', 'x<D800>y', 'tab\tend', '\uFFFD'];
    const ats = ['0', '1700000000', '253402300799', '253402300800', '9007199254740993', '18446744073709551615'];
    const nrs = [0, 1, 4294967295];
    const times = [undefined, String(Math.floor(now.getTime() / 1000)), '1000000000', '999999999999'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const encoding = pick(['json', 'protobuf'] as const);
      const c: Json = {
        device_id: `d${i}${pick(texts)}`, client_id: pick(texts), system_version: pick(texts), product_version: '1.0', env: Math.floor(random() * 13),
        device_model: pick(texts), payloads: Array.from({ length: 1 + Math.floor(random() * 3) }, (_, n) => ({
          at: pick(ats), event: pick(texts), nr: pick(nrs) + n * 0, timezone: pick(texts),
          parameters: [{ name: pick(texts), value: pick(texts) }, { name: 'k', value: pick(texts) }],
        })),
      };
      // The session over the fields as the client holds them (what it sends, escapes undone).
      const undo = (v: unknown) => String(v).replaceAll('<NUL>', '\u0000').replaceAll('<D800>', '\ud800');
      c.session = sessionId({ device_id: undo(c.device_id), client_id: undo(c.client_id), system_version: undo(c.system_version), product_version: '1.0', env: c.env as number });
      const body = encoding === 'json' ? jsonEscaped(c) : encodeCollection(JSON.parse(jsonEscaped(c).toString('utf8')) as Json);
      const time = pick(times);
      const result = await post(request(encoding, body, time === undefined ? {} : { 'x-hamustro-time': time }));
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      if (result.status === 200) expectAllLoad(result);
      else {
        expect(result.status, JSON.stringify(result.body)).toBe(400);
        expect(result.summaries).toEqual([]);
      }
    }
    // Both outcomes occur often, so the property was exercised both ways.
    expect(statuses.get(200)).toBeGreaterThan(20);
    expect(statuses.get(400)).toBeGreaterThan(20);
  });

  it('a raw object an older collector stored: the payload that cannot be stored is rejected alone, its siblings load, old NULs are replaced and counted', async () => {
    const record = (payloads: Json[], extra: Json = {}) => JSON.stringify({ received_at: '2026-11-23T10:00:00.000Z', sent_at: null, ip: '198.51.100.7', collection: { ...ios(), env: 0, payloads }, ...extra });
    const lines = [
      record([{ at: '1700000000', event: 'a', nr: 1, parameters: [] }, { at: '253402300800', event: 'b', nr: 2, parameters: [] }, { at: '1700000002', event: 'c', nr: 3, parameters: [{ name: 'title', value: 'x\u0000y' }] }]),
      record([{ at: '18446744073709551615', event: 'd', nr: 4, parameters: [] }]),
      record([{ at: '1700000005', event: 'e', nr: 5, parameters: [] }], { sent_at: '+033658-09-27T01:46:39.000Z' }),
    ];
    const key = 'raw/events/2026/11/23/10/OLD.ndjson.gz';
    await store.put(key, gzipSync(`${lines.join('\n')}\n`));
    const summary = await parseObject({ store, logger: silentLogger }, { key });
    expect(summary).toMatchObject({ lines: 3, accepted: 2, rejected: 1, rows: { events: 3 }, rejected_records: 1, replaced: 1 });
    const rejected = gunzipSync(await readObject(store, summary.outputs.find((k) => k.startsWith('rejected/'))!)).toString('utf8');
    expect(rejected).toContain(`${key},1,payloads[1].at 253402300800 is beyond year 9999,`);
    expect(rejected).toContain(`${key},2,payloads[0].at 18446744073709551615 is beyond year 9999,`);
    const rows = gunzipSync(await readObject(store, summary.outputs.find((k) => k.startsWith('parsed/events/'))!)).toString('utf8');
    expect(rows).toContain('{""title"":""x\uFFFDy""}');
    expect(rows).not.toContain('\\u0000');
  });
});

describe('a NUL parameter through the real collector, parser and loader into PostgreSQL', () => {
  it('loads the event with U+FFFD and counts the replacement in the parse summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-loadable-pg-'));
    const schema = uniqueSchema('nul');
    const warehouse = new PgWarehouse(testDatabaseUrl());
    try {
      const store = new FsBlobStore(dir);
      const collector = new Collector({ store, clock: { now: () => new Date() }, ids, logger: silentLogger, ...readConfig({ FERRY_BATCH_WINDOW_MS: '0' }).collector });
      const bad = ios() as { payloads: { parameters: { name: string; value: string }[] }[] };
      bad.payloads[0]!.parameters.push({ name: 'title', value: 'Buy <NUL>milk' }, { name: 'n<NUL>m', value: '<D800>x' });
      const response = await collector.handle(request('json', jsonEscaped(bad as unknown as Json)));
      expect([response.status, JSON.parse(response.body)]).toEqual([200, { stored: 2, replaced: 3 }]);
      const good = await collector.handle(request('json', json(fixtureJson('collections/web-quoted-values.json'))));
      expect(good.status).toBe(200);

      const summaries: ParseSummary[] = [];
      for (const key of await listKeys(store, 'raw/')) summaries.push(await parseObject({ store, logger: silentLogger }, { key }));
      expect(summaries.map((s) => s.replaced).sort()).toEqual([3, undefined]);
      const result = await runLoad({ store, warehouse, schema, logger: silentLogger, tables: [eventTable], runId: 'nul-run' });
      expect(result.tables[0]).toMatchObject({ table: 'events', files: 2, rowsInserted: 3 });

      const [row] = await warehouse.query<{ title: string; odd: string }>(`SELECT parameters->>'title' AS title, parameters->>'n\uFFFDm' AS odd FROM "${schema}".events WHERE nr = 41`);
      expect(row).toEqual({ title: 'Buy \uFFFDmilk', odd: '\uFFFDx' });
      // The loader stores the summary's count where it has the column for it.
      const [column] = await warehouse.query<{ n: string }>(`SELECT count(*)::text AS n FROM information_schema.columns WHERE table_schema = '${schema}' AND table_name = 'source_counts' AND column_name = 'replaced'`);
      if (column!.n === '1') {
        const counts = await warehouse.query<{ replaced: string | null }>(`SELECT replaced::text AS replaced FROM "${schema}".source_counts ORDER BY replaced NULLS FIRST`);
        expect(counts.map((c) => c.replaced)).toEqual([expect.toBeOneOf([null, '0']), '3']);
      }
    } finally {
      await warehouse.close();
      await dropSchema(schema);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
