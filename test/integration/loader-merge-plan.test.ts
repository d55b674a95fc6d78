import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { ArrayText, CollisionKeys } from '../../core/loader/collision-keys.js';
import { PostgresDialect } from '../../core/loader/dialects/postgres.js';
import type { BatchInput } from '../../core/loader/load-dialect.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import type { WarehouseTransaction } from '../../core/ports/warehouse.js';
import { fixtureJson } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Rows of `events` for `count` sessions of 10 events each, made in SQL. */
function eventRows(schema: string, from: number, count: number, target: string): string {
  return `INSERT INTO ${target} (device_id, client_id, session, nr, env, system_version, product_version, at, event, parameters, received_at, at_corrected, source_key, fingerprint)
SELECT 'device-' || s, 'client', md5('session' || s), n, 'PRODUCTION', '1', '1', '2026-11-25 10:00:00', 'Event', '{}', '2026-11-25 10:00:01', '2026-11-25 10:00:00', 'raw/x', md5(s || '/' || n)
FROM generate_series(${from}, ${from + count - 1}) s, generate_series(1, 10) n`;
}

/** `collidesSql`'s parameters for `(session, nr)` keys. */
function keysOf(keys: readonly (readonly [string, string])[]): string[] {
  const collected = new CollisionKeys(['text', 'bigint']);
  for (const key of keys) collected.add(key);
  return collected.params();
}

describe('the PostgreSQL merge of a load batch', () => {
  const schema = uniqueSchema('merge_plan');
  const dialect = new PostgresDialect(schema);
  let warehouse: PgWarehouse;
  beforeAll(async () => {
    warehouse = new PgWarehouse(testDatabaseUrl());
    await dialect.ensureSchema(warehouse, [eventTable]);
    await warehouse.query(eventRows(schema, 0, 5000, dialect.target(eventTable)));
    await warehouse.query(`ANALYZE ${dialect.target(eventTable)}`);
  });
  afterAll(async () => {
    await warehouse.close();
    await dropSchema(schema);
  });

  it('stores a re-send once (the earliest receipt), and counts per source the rows inserted and those whose (session, nr) another content had first', async () => {
    const row = (session: string, fingerprint: string, receivedAt: string, source: string) =>
      `('d', 'c', '${session}', 1, 'PRODUCTION', '1', '1', '2026-11-25 10:00:00', 'E', '{}', '${receivedAt}', '2026-11-25 10:00:00', '${source}', '${fingerprint}')`;
    const columns = '(device_id, client_id, session, nr, env, system_version, product_version, at, event, parameters, received_at, at_corrected, source_key, fingerprint)';
    const outcome = await warehouse.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${dialect.target(eventTable)} ${columns} VALUES ${row('m1', 'fa', '2026-11-25 09:00:00', 'stored')}`);
      await tx.query(dialect.createStaging(eventTable));
      await tx.query(
        `INSERT INTO ${dialect.staging(eventTable)} ${columns} VALUES ${[
          row('m1', 'fa', '2026-11-25 11:00:00', 'resend'),
          row('m1', 'fb', '2026-11-25 11:00:00', 'collide-stored'),
          row('m2', 'fc', '2026-11-25 11:01:00', 'later-dup'),
          row('m2', 'fc', '2026-11-25 11:00:00', 'earlier-dup'),
          row('m3', 'fe', '2026-11-25 11:01:00', 'second'),
          row('m3', 'fd', '2026-11-25 11:00:00', 'first'),
          row('m4', 'ff', '2026-11-25 11:00:00', 'plain'),
        ].join(', ')}`,
      );
      const counts = await tx.query<{ source_key: string; inserted: string; collisions: string }>(`${dialect.mergeCounting(eventTable)} ORDER BY source_key`);
      const stored = await tx.query<{ session: string; source_key: string }>(`SELECT session, source_key FROM ${dialect.target(eventTable)} WHERE session LIKE 'm_' ORDER BY session, source_key`);
      await tx.query(`DELETE FROM ${dialect.target(eventTable)} WHERE session LIKE 'm_'`);
      return { counts: counts.map((c) => [c.source_key, Number(c.inserted), Number(c.collisions)]), stored: stored.map((r) => `${r.session} ${r.source_key}`) };
    });
    expect(outcome.counts).toEqual([
      ['collide-stored', 1, 1],
      ['earlier-dup', 1, 0],
      ['first', 1, 0],
      ['plain', 1, 0],
      ['second', 1, 1],
    ]);
    expect(outcome.stored).toEqual(['m1 collide-stored', 'm1 stored', 'm2 earlier-dup', 'm3 first', 'm3 second', 'm4 plain']);
  });

  // A plan that reads the whole target made every load cost as much as the table held.
  it.each([
    ['counting collisions (events)', () => dialect.mergeCounting(eventTable)],
    ['de-duplicating only', () => dialect.mergeStaging(eventTable)],
  ])('looks up each staged row in the target by its key, %s, instead of reading the whole target', async (_name, merge) => {
    const scans = await warehouse.transaction(async (tx) => {
      await tx.query(dialect.sortMemory());
      await tx.query(dialect.createStaging(eventTable));
      await tx.query(eventRows(schema, 4900, 500, dialect.staging(eventTable)));
      const [row] = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${merge()}`);
      return nodes(row!['QUERY PLAN'][0]!.Plan).filter((n) => n['Relation Name'] === 'events' && n['Node Type'] !== 'ModifyTable');
    });
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) expect(scan, JSON.stringify(scan)).toHaveProperty('Index Cond');
  });

  it('checks a copied run for a collision key held twice through the key index, not by reading the whole target', async () => {
    const [row] = await warehouse.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${dialect.collidesSql(eventTable)}`, keysOf([['a', '1'], ['b', '2']]));
    const scans = nodes(row!['QUERY PLAN'][0]!.Plan).filter((n) => n['Relation Name'] === 'events');
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) expect(scan, JSON.stringify(scan)).toHaveProperty('Index Cond');
  });

  it('checks a copied run with one look at the key index per session, probing row by row only a session with other rows in the run\'s range of nr', async () => {
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const insert = (nr: number) =>
      `INSERT INTO ${dialect.target(eventTable)} (device_id, client_id, session, nr, env, system_version, product_version, at, event, parameters, received_at, at_corrected, source_key, fingerprint)
VALUES ('device-0', 'client', '${md5('session0')}', ${nr}, 'PRODUCTION', '1', '1', '2026-11-25 10:00:00', 'Event', '{}', '2026-11-25 10:00:01', '2026-11-25 10:00:00', 'raw/y', 'other')`;
    /** As after a run of 50 new sessions of 10 rows and two rows of session 0, stored before with nr 1–10. */
    const check = (nrs: [number, number]) =>
      warehouse.transaction(async (tx) => {
        await tx.query('SAVEPOINT run');
        await tx.query(eventRows(schema, 20_000, 50, dialect.target(eventTable)));
        for (const nr of nrs) await tx.query(insert(nr));
        const keys = keysOf([
          ...Array.from({ length: 50 * 10 }, (_, i) => [md5(`session${20_000 + Math.floor(i / 10)}`), String((i % 10) + 1)] as const),
          ...nrs.map((nr) => [md5('session0'), String(nr)] as const),
        ]);
        const [{ collides }] = (await tx.query<{ collides: boolean }>(dialect.collidesSql(eventTable), keys)) as [{ collides: boolean }];
        const [plan] = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${dialect.collidesSql(eventTable)}`, keys);
        await tx.query('ROLLBACK TO SAVEPOINT run');
        const scans = nodes(plan!['QUERY PLAN'][0]!.Plan).filter((n) => n['Relation Name'] === 'events');
        return { collides, indexEntries: scans.reduce((sum, n) => sum + n['Actual Loops']!, 0) };
      });
    // One look for each of the 51 sessions: session 0's stored rows lie outside 11–12.
    expect(await check([11, 12])).toEqual({ collides: false, indexEntries: 51 });
    // 0–11 holds session 0's stored rows too: a probe for each of its two rows in the run.
    expect(await check([0, 11])).toEqual({ collides: false, indexEntries: 53 });
    // Session 0's nr 5 now twice: under the stored content and under the run's.
    expect(await check([11, 5])).toMatchObject({ collides: true });
  });

  it('passes a batch\'s keys as array literals PostgreSQL reads back value for value', async () => {
    const values = ['plain', '', 'say "hi"', 'back\\slash', '{brace}', 'comma, inside', 'NULL', ' spaced ', 'ünï ✓ 😀', 'line\nbreak', null];
    const many = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const text = new ArrayText();
    for (const v of [...values, ...many]) text.add(v);
    const bigints = new ArrayText();
    for (const v of ['1', '-42', '9007199254740993', null]) bigints.add(v);
    const [row] = await warehouse.query<{ t: (string | null)[]; n: (string | null)[] }>('SELECT $1::text[] AS t, $2::bigint[]::text[] AS n', [text.text(), bigints.text()]);
    expect(row!.t).toEqual([...values, ...many]);
    expect(row!.n).toEqual(['1', '-42', '9007199254740993', null]);
  });

  describe('a batch of events files', () => {
    const collection = decodeCollectionJson(fixtureJson('collections/ios-two-events.json'));
    /** A parsed events file of the fixture's two payloads, under `session`, received at `at`. */
    const file = (session: string, at: string, change: (p: (typeof collection.payloads)[number]) => object = (p) => p) =>
      flattenRawRecord({ received_at: at, sent_at: null, ip: null, collection: { ...collection, session, payloads: collection.payloads.map((p) => ({ ...p, ...change(p) })) } }, `raw/events/${session}.ndjson.gz`)
        .map((r) => encodeCsvRow(r))
        .join('');

    /** Loads `files` as one batch; returns what it reported, the statements it ran, and the rows stored. */
    async function load(files: Record<string, string>, loader = dialect) {
      const statements: string[] = [];
      const outcome = await warehouse.transaction(async (tx) => {
        const recording: WarehouseTransaction = {
          query: (sql, params) => (statements.push(sql.split(/\s/)[0]!), tx.query(sql, params)),
          execute: (sql, params) => (statements.push(sql.split(/\s/)[0]!), tx.execute(sql, params)),
          copyCsv: (target, csv) => (statements.push('COPY'), tx.copyCsv(target, csv)),
        };
        const batch: BatchInput = {
          tx: recording,
          table: eventTable,
          files: Object.entries(files).map(([key, csv]) => ({ key, etag: 'e', expectedRows: csv.split('\n').length - 1 })),
          open: async (key) => Readable.from([Buffer.from(files[key]!)]),
          storedCsv: false,
          store: new MemoryBlobStore(),
          runId: 'run',
          batchId: 'batch',
        };
        return loader.loadBatch(batch);
      });
      const stored = await warehouse.query<{ session: string; n: string }>(`SELECT session, count(*) AS n FROM ${dialect.target(eventTable)} WHERE session LIKE 'batch-%' GROUP BY session ORDER BY session`);
      return { outcome, staged: statements.includes('CREATE'), stored: stored.map((r) => `${r.session} ${r.n}`) };
    }

    it('copies new events straight into the target, and stages a batch with a re-send or a collision so that the merge counts it', async () => {
      const clean = await load({ a: file('batch-1', '2026-11-25T10:00:00Z'), b: file('batch-2', '2026-11-25T10:00:01Z') });
      expect(clean).toEqual({ outcome: { total: 4, inserted: 4, collisions: new Map() }, staged: false, stored: ['batch-1 2', 'batch-2 2'] });

      const resent = await load({ a: file('batch-1', '2026-11-25T11:00:00Z'), c: file('batch-3', '2026-11-25T11:00:00Z') });
      expect(resent.staged).toBe(true);
      expect(resent.outcome).toMatchObject({ total: 4, inserted: 2 });
      expect(resent.stored).toEqual(['batch-1 2', 'batch-2 2', 'batch-3 2']);

      // Another content under stored (session, nr): stored and counted, though no key repeats.
      const collides = await load({ d: file('batch-2', '2026-11-25T12:00:00Z', () => ({ event: 'Other' })) });
      expect(collides).toMatchObject({ outcome: { total: 2, inserted: 2, collisions: new Map([['raw/events/batch-2.ndjson.gz', 2]]) }, staged: true });

      // Two contents under one (session, nr) within the batch.
      const within = await load({ e: file('batch-4', '2026-11-25T13:00:00Z'), f: file('batch-4', '2026-11-25T13:00:01Z', () => ({ event: 'Other' })) });
      expect(within).toMatchObject({ outcome: { total: 4, inserted: 4 }, staged: true });
      expect(within.outcome.collisions?.get('raw/events/batch-4.ndjson.gz')).toBe(2);
      expect(within.stored).toEqual(['batch-1 2', 'batch-2 4', 'batch-3 2', 'batch-4 4']);
    });

    it('stages a batch whose two contents share a (session, nr) written two ways (42 and 042), so that the merge counts it', async () => {
      const padded = file('batch-8', '2026-11-25T15:00:01Z', () => ({ event: 'Other' })).replaceAll(',batch-8,41,', ',batch-8,041,').replaceAll(',batch-8,42,', ',batch-8,042,');
      expect(padded).toContain(',batch-8,042,');
      const twoWays = await load({ k: file('batch-8', '2026-11-25T15:00:00Z'), l: padded });
      expect(twoWays).toMatchObject({ outcome: { total: 4, inserted: 4 }, staged: true });
      expect(twoWays.outcome.collisions?.get('raw/events/batch-8.ndjson.gz')).toBe(2);
    });

    it('loads a batch larger than one direct copy in runs, a run meeting a collision with an earlier run staged and counted', async () => {
      const small = new PostgresDialect(schema, { directCopyMaxRows: 2 });
      const runs = await load(
        {
          g: file('batch-5', '2026-11-25T14:00:00Z'),
          h: file('batch-6', '2026-11-25T14:00:01Z'),
          i: file('batch-5', '2026-11-25T14:00:02Z', () => ({ event: 'Other' })),
          j: file('batch-7', '2026-11-25T14:00:03Z'),
        },
        small,
      );
      expect(runs.outcome).toEqual({ total: 8, inserted: 8, collisions: new Map([['raw/events/batch-5.ndjson.gz', 2]]) });
      expect(runs.staged).toBe(true);
      expect(runs.stored.filter((r) => /batch-[5-7]/.test(r))).toEqual(['batch-5 4', 'batch-6 2', 'batch-7 2']);
    });
  });
});

