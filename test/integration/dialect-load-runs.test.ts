import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { AzureSqlDialect } from '../../core/loader/dialects/azure-sql.js';
import { FabricDialect } from '../../core/loader/dialects/fabric.js';
import { RedshiftDialect } from '../../core/loader/dialects/redshift.js';
import { SynapseDialect } from '../../core/loader/dialects/synapse.js';
import type { LoadDialect } from '../../core/loader/load-dialect.js';
import { runLoad } from '../../core/loader/load-run.js';
import { loadStatus } from '../../core/loader/load-status.js';
import { sourceCountsTable } from '../../core/loader/source-counts.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { tableComments } from '../../core/model/table-docs.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import type { BlobInfo, BlobStore } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureJson, repoPath } from '../support/fixtures.js';
import { RecordingWarehouse, renderTranscript, type Answer } from '../support/recording-warehouse.js';
import { readObject } from '../support/streams.js';

/**
 * The load run against warehouses that cannot run here, through a recording fake driver: the
 * statements, their order and the transaction boundaries are asserted, and each dialect's whole
 * transcript is kept as a golden file (`test/golden/<dialect>/`) that `sqlfluff` parses in CI
 * (`golden-sql.test.ts`). `FERRY_UPDATE_GOLDEN=1` rewrites the golden files after a deliberate change.
 */

/** A filesystem store that addresses objects like the dialect's cloud, with ETags fixed per key. */
function cloudLike(inner: FsBlobStore, urlOf: (key: string) => string): BlobStore {
  const stable = (info: BlobInfo): BlobInfo => ({ ...info, etag: `etag-${info.key.split('/').pop()!.split('.')[0]}` });
  return {
    put: (key, body, metadata) => inner.put(key, body, metadata),
    get: (key) => inner.get(key),
    head: async (key) => stable(await inner.head(key)),
    list: async function* (prefix, options) {
      for await (const info of inner.list(prefix, options)) yield stable(info);
    },
    delete: (key) => inner.delete(key),
    locate: urlOf,
  };
}

interface Case {
  name: 'redshift' | 'azuresql' | 'synapse' | 'fabric';
  render: 'redshift' | 'tsql';
  dialect: () => LoadDialect;
  url: (key: string) => string;
}

const cases: Case[] = [
  {
    name: 'redshift',
    render: 'redshift',
    dialect: () => new RedshiftDialect({ schema: 'ferry', iamRole: 'arn:aws:iam::123456789012:role/ferry-redshift-load', region: 'eu-west-1' }),
    url: (key) => `s3://ferry-events/${key}`,
  },
  { name: 'azuresql', render: 'tsql', dialect: () => new AzureSqlDialect('ferry'), url: (key) => `https://ferryevents.blob.core.windows.net/ferry/${key}` },
  { name: 'synapse', render: 'tsql', dialect: () => new SynapseDialect({ schema: 'ferry' }), url: (key) => `https://ferryevents.blob.core.windows.net/ferry/${key}` },
  { name: 'fabric', render: 'tsql', dialect: () => new FabricDialect({ schema: 'ferry' }), url: (key) => `https://ferryevents.blob.core.windows.net/ferry/${key}` },
];

async function putParsed(store: BlobStore, key: string, fixture: string, rows?: number, session?: string) {
  const decoded = decodeCollectionJson(fixtureJson(`collections/${fixture}.json`));
  const collection = session === undefined ? decoded : { ...decoded, session };
  const lines = flattenRawRecord({ received_at: '2026-11-23T10:00:00.000Z', sent_at: null, ip: '198.51.100.1', collection }, `raw/events/2026/11/23/10/${fixture}.ndjson.gz`).map(encodeCsvRow);
  await store.put(key, gzipSync(lines.join('')), { ferry_rows: String(rows ?? lines.length) });
  return lines.length;
}

async function putSummary(store: BlobStore, key: string) {
  const summary = {
    source: 'events',
    source_key: 'raw/events/2026/11/23/10/01ABC.ndjson.gz',
    source_etag: 'etag-01ABC',
    date: '2026-11-23',
    lines: 2,
    accepted: 2,
    ignored: 0,
    ignored_by: { blank: 0, filtered: 0, rule: 0, unmatched: 0 },
    rejected: 0,
    rows: { events: 3 },
    outputs: [],
  };
  await store.put(key, Buffer.from(JSON.stringify(summary)));
}

/** What each warehouse raises when it refuses a file's content. */
function refusalOf(name: Case['name']): Error {
  if (name === 'redshift') return Object.assign(new Error("Load into table 'ferry_staging_events' failed.  Check 'stl_load_errors' system table for details."), { code: 'XX000' });
  return Object.assign(new Error('Bulk load data conversion error (type mismatch or invalid character for the specified codepage) for row 1, column 23 (parameters).'), { number: 4864 });
}

let storeDir = '';

/** The file URLs of the Redshift manifest a `COPY … FROM 's3://…manifest'` reads (from the filesystem store behind the fake bucket). */
function manifestOf(sql: string): string[] {
  const url = /FROM 's3:\/\/ferry-events\/([^']+\.manifest)'/.exec(sql)?.[1];
  if (url === undefined) return [];
  return (JSON.parse(readFileSync(join(storeDir, url), 'utf8')) as { entries: { url: string }[] }).entries.map((e) => e.url);
}

/** Rows of the parsed files named in `text` (URLs or a COPY INTO's FROM list), from the store. */
function rowsIn(text: string | string[]): number {
  const keys = [...String(text).matchAll(/(parsed\/[^',\s]+\.csv\.gz)/g)].map((m) => m[1]!);
  return keys.reduce((sum, key) => sum + gunzipSync(readFileSync(join(storeDir, key))).toString('utf8').split('\n').length - 1, 0);
}

async function matchGolden(path: string, text: string) {
  const file = repoPath(`test/golden/${path}`);
  if (process.env.FERRY_UPDATE_GOLDEN === '1') {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  expect(text).toBe(await readFile(file, 'utf8'));
}

describe.each(cases)('load run through the $name dialect (recording fake driver)', ({ name, render, dialect, url }) => {
  let dir: string;
  let store: BlobStore;
  let answers: (sql: string, params: readonly unknown[]) => Answer;
  let warehouse: RecordingWarehouse;
  const run = (runId: string, d = dialect()) => runLoad({ store, warehouse, logger: silentLogger, tables: [eventTable], schema: 'ferry', dialect: d, runId });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `ferry-${name}-`));
    storeDir = dir;
    store = cloudLike(new FsBlobStore(dir), url);
    answers = () => undefined;
    backfilled = false;
    warehouse = new RecordingWarehouse((sql, params) => answers(sql, params));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  let backfilled = false;
  const oldRow = Object.fromEntries(
    eventTable.columns.map((c, i) => [c.name, flattenRawRecord({ received_at: '2026-11-20T08:00:00.000Z', sent_at: null, ip: null, collection: decodeCollectionJson(fixtureJson('collections/ios-two-events.json')) }, 'raw/old')[0]![i]]),
  );

  /** Answers a real warehouse would give for a healthy load of `copied` server-side rows. */
  const healthy = (copied: number) => (sql: string, params: readonly unknown[] = []): Answer => {
    if (/pg_last_copy_count|COUNT_BIG\(\*\) AS copied/.test(sql)) return { rows: [{ copied: String(copied) }] };
    if (/sp_getapplock/.test(sql)) return { rows: [{ locked: 1 }] };
    // An existing deployment whose events table predates its last column: one ALTER is due.
    if (/information_schema\.columns/.test(sql)) {
      const table = [eventTable, sourceCountsTable].find((t) => t.name === params[1])!;
      return { rows: table.columns.filter((c) => c.name !== 'source_key').map((c) => ({ column_name: c.name })) };
    }
    if (/^UPDATE \S+load_leases\S* SET run_id = @p1/.test(sql)) return { count: 1 };
    // A deployment from before event fingerprints: events keyed (session, nr), source counts by summary.
    if (/information_schema\.table_constraints|sys\.indexes/.test(sql)) {
      const events = params.includes('events') || params.includes('[ferry].[events]');
      const name = events ? (/sys\.indexes/.test(sql) ? 'pk_events' : 'events_pkey') : /sys\.indexes/.test(sql) ? 'pk_source_counts' : 'source_counts_pkey';
      return { rows: (events ? ['session', 'nr'] : ['summary_key']).map((column_name) => ({ column_name, constraint_name: name })) };
    }
    // One row loaded before then, which the migration fingerprints.
    if (/^SELECT (TOP \(\d+\) )?\S*session\S*, /.test(sql) && /fingerprint\S* IS NULL/.test(sql) && !backfilled) {
      backfilled = true;
      return { rows: [oldRow] };
    }
    // The batch's second event shares its (session, nr) with a stored one of other content.
    if (/ferry_order/.test(sql)) return { rows: [{ source_key: 'raw/events/2026/11/23/10/web-quoted-values.ndjson.gz', collisions: '1' }] };
    // The de-duplicating insert into the target: everything staged is new here.
    if (/ferry_rank/.test(sql)) return { count: /source_counts/.test(sql) ? 1 : copied };
    return undefined;
  };

  it('loads each due file once, in one transaction per table batch with its manifest rows; a second run loads nothing', async () => {
    const a = await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events');
    const b = await putParsed(store, 'parsed/events/2026-11-23/b.csv.gz', 'web-quoted-values');
    await putSummary(store, 'summaries/2026-11-23/01ABC.json');
    answers = healthy(a + b);

    const first = await run('run-1');
    expect(first.tables).toEqual([
      { table: 'events', files: 2, rowsCopied: a + b, rowsInserted: a + b, collisions: 1 },
      { table: 'source_counts', files: 1, rowsCopied: 1, rowsInserted: 1 },
    ]);
    expect([...warehouse.manifest].sort()).toEqual(['parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/b.csv.gz', 'summaries/2026-11-23/01ABC.json']);
    const firstLog = warehouse.log.length;

    const second = await run('run-2');
    expect(second.tables.map((t) => t.files)).toEqual([0, 0]);
    // The second run only asks the manifest: no transaction, no load.
    expect(warehouse.log.slice(firstLog).every((r) => r.kind === 'query' && /load_manifest/.test(r.sql))).toBe(true);

    // Every statement that changes data runs inside a transaction; DDL and manifest reads may not.
    for (const r of warehouse.log) {
      if ((r.kind === 'query' || r.kind === 'execute') && /^(INSERT|COPY|DELETE|DROP TABLE|CREATE TEMP|LOCK)/.test(r.sql) && !/load_leases/.test(r.sql)) expect(r.inTransaction, r.sql).toBe(true);
    }
    await matchGolden(`${name}/load-run.sql`, renderTranscript(warehouse.log, render));
  });

  it('rolls back a batch whose row count disagrees with the parser and quarantines the file outside the transaction', async () => {
    const real = await putParsed(store, 'parsed/events/2026-11-23/c.csv.gz', 'ios-two-events', 5);
    // A deployment whose table descriptions are current but one: the schema step rewrites only that one.
    const described = tableComments([eventTable, sourceCountsTable]).map((c) => ({ table_name: c.table, column_name: c.column ?? '', description: c.table === 'events' && c.column === 'at' ? 'an older text' : c.text }));
    answers = (sql, params) => (/pg_description|MS_Description/.test(sql) ? { rows: described } : healthy(real)(sql, params));
    const result = await run('run-mismatch');
    expect(result.tables[0]).toMatchObject({ table: 'events', files: 0, quarantined: [{ key: 'parsed/events/2026-11-23/c.csv.gz', code: 'load_failed', sqlstate: null }] });
    expect(result.tables[0]!.error).toBeUndefined();
    expect(result.tables[0]!.quarantined![0]!.message).toMatch(/row count mismatch/);
    expect(warehouse.manifest.has('parsed/events/2026-11-23/c.csv.gz')).toBe(false);
    const shapes = warehouse.shapes();
    const rollback = shapes.indexOf('ROLLBACK');
    expect(rollback).toBeGreaterThan(-1);
    expect(shapes.slice(0, rollback).some((s) => /load_manifest \(file_key/.test(s))).toBe(false);
    // Recorded after the rollback, in a transaction of its own that replaces an earlier entry for the file.
    const quarantine = warehouse.log.findIndex((r) => r.kind === 'query' && /INSERT INTO \S+load_quarantine/.test(r.sql));
    expect(quarantine).toBeGreaterThan(rollback);
    expect(shapes.slice(quarantine - 2, quarantine + 2)).toEqual(['BEGIN', expect.stringMatching(/^DELETE FROM \S+load_quarantine/), expect.stringMatching(/^INSERT INTO \S+load_quarantine/), 'COMMIT']);
    const recorded = warehouse.log[quarantine]!;
    expect(recorded.kind === 'query' && recorded.params.slice(0, 5)).toEqual(['parsed/events/2026-11-23/c.csv.gz', 'etag-c', 'events', 'load_failed', null]);
    await matchGolden(`${name}/load-mismatch.sql`, renderTranscript(warehouse.log, render));
  });

  it('isolates the file the warehouse refuses: the other files of the batch load in the same run, the refused one is quarantined with the error code, and the next run skips it', async () => {
    const a = await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events');
    await putParsed(store, 'parsed/events/2026-11-23/b.csv.gz', 'web-quoted-values', undefined, 'refused-session');
    const d = await putParsed(store, 'parsed/events/2026-11-23/d.csv.gz', 'android-env-number');
    const refusal = refusalOf(name);
    // The warehouse refuses any load holding file b, whichever way the dialect sends it.
    const holdsB = (sql: string) => (/^COPY INTO/.test(sql) && sql.includes('/b.csv.gz')) || (/^COPY "/.test(sql) && manifestOf(sql).some((u) => u.endsWith('/b.csv.gz')));
    let copied = 0;
    answers = (sql, params) => {
      if (holdsB(sql)) return { error: refusal };
      if (/pg_last_copy_count|COUNT_BIG\(\*\) AS copied/.test(sql)) return { rows: [{ copied: String(copied) }] };
      if (/^COPY/.test(sql)) copied = manifestOf(sql).length > 0 ? rowsIn(manifestOf(sql)) : rowsIn(sql);
      return healthy(a + d)(sql, params);
    };
    warehouse.refuseBulk = (_table, records) => (records.some((r) => r.includes('refused-session')) ? refusal : undefined);

    const first = await run('run-isolate');
    expect(first.tables[0]).toMatchObject({ table: 'events', files: 2, quarantined: [{ key: 'parsed/events/2026-11-23/b.csv.gz', sqlstate: name === 'redshift' ? 'XX000' : '4864' }] });
    expect(first.tables[0]!.error).toBeUndefined();
    expect([...warehouse.manifest].filter((k) => k.startsWith('parsed/')).sort()).toEqual(['parsed/events/2026-11-23/a.csv.gz', 'parsed/events/2026-11-23/d.csv.gz']);

    // The next run asks the quarantine, finds b there unchanged, and opens no transaction for it.
    const quarantined = (sql: string, params: readonly unknown[]): Answer =>
      /FROM \S+load_quarantine\S* WHERE file_key IN/.test(sql) ? { rows: params.filter((k) => k === 'parsed/events/2026-11-23/b.csv.gz').map((k) => ({ file_key: k, etag: 'etag-b' })) } : undefined;
    const before = warehouse.log.length;
    const previous = answers;
    answers = (sql, params) => quarantined(sql, params) ?? previous(sql, params);
    const second = await run('run-after');
    expect(second.tables[0]).toMatchObject({ files: 0 });
    expect(second.tables[0]!.quarantined).toBeUndefined();
    expect(warehouse.log.slice(before).some((r) => r.kind === 'begin')).toBe(false);
  });

  it('reports status from the manifest and failure tables in the dialect', async () => {
    answers = (sql) => {
      if (/COUNT_BIG\(\*\) AS files, SUM|COUNT\(\*\) AS files, SUM/.test(sql) && /GROUP BY table_name ORDER BY/.test(sql)) {
        return { rows: [{ table_name: 'events', files: '2', rows: '3', last_loaded_at: '2026-11-23T10:05:00Z' }] };
      }
      if (/ROW_NUMBER\(\) OVER \(PARTITION BY table_name ORDER BY (\[date\]|date) DESC\)/.test(sql)) return { rows: [{ table_name: 'events', date: '2026-11-23', files: 2, rows: 3 }] };
      if (/FROM \S+load_failures/.test(sql)) {
        return { rows: [{ table_name: 'events', run_id: 'r', code: 'load_error', message: 'm', file_keys: '["parsed/events/2026-11-23/c.csv.gz"]', failed_at: '2026-11-23T10:06:00Z' }] };
      }
      return undefined;
    };
    const status = await loadStatus({ store, warehouse, schema: 'ferry', dialect: dialect(), tables: [eventTable], now: new Date('2026-11-23T12:00:00Z'), olderThanS: 60 });
    expect(status.tables[0]).toEqual({
      table: 'events',
      files: 2,
      rows: 3,
      last_loaded_at: '2026-11-23T10:05:00Z',
      days: [{ date: '2026-11-23', files: 2, rows: 3 }],
      latest_failure: { run_id: 'r', code: 'load_error', message: 'm', keys: ['parsed/events/2026-11-23/c.csv.gz'], failed_at: '2026-11-23T10:06:00Z' },
    });
    await matchGolden(`${name}/status.sql`, renderTranscript(warehouse.log, render));
  });

  if (name === 'redshift') {
    it('lists exactly the due files, mandatory, in the S3 manifest the COPY reads', async () => {
      await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events');
      answers = healthy(2);
      await run('run-m');
      const copy = warehouse.log.find((r) => r.kind === 'query' && r.sql.startsWith('COPY'));
      const manifestUrl = copy?.kind === 'query' ? /FROM '([^']+)'/.exec(copy.sql)![1]! : '';
      expect(manifestUrl).toMatch(/^s3:\/\/ferry-events\/load-manifests\/events\/run-m\/events-\d+\.manifest$/);
      const manifest = JSON.parse((await readObject(store, manifestUrl.replace('s3://ferry-events/', ''))).toString('utf8'));
      expect(manifest).toEqual({ entries: [{ url: 's3://ferry-events/parsed/events/2026-11-23/a.csv.gz', mandatory: true }] });
      expect(gunzipSync(await readObject(store, 'parsed/events/2026-11-23/a.csv.gz')).toString('utf8').split('\n')).toHaveLength(3);
    });

    it('takes LOCK on the manifest before re-checking it, since Redshift has no advisory locks', async () => {
      await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events');
      answers = healthy(2);
      await run('run-l');
      const shapes = warehouse.shapes();
      const begin = shapes.indexOf('BEGIN', shapes.findIndex((s) => s.startsWith('SELECT file_key')));
      expect(shapes.slice(begin, begin + 3)).toEqual(['BEGIN', 'LOCK "ferry"."load_manifest"', expect.stringMatching(/^SELECT file_key FROM "ferry"."load_manifest" WHERE file_key IN/)]);
    });
  }

  if (name === 'azuresql') {
    it('skips the table when another run holds its application lock', async () => {
      await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events');
      answers = (sql, params) => (/sp_getapplock/.test(sql) && !/ferry\.ddl/.test(sql) ? { rows: [{ locked: 0 }] } : healthy(2)(sql, params));
      // The DDL lock waits (@p2 = -1); the load lock only tries (@p2 = 0).
      const result = await run('run-locked');
      expect(result.tables[0]).toMatchObject({ table: 'events', files: 0, skipped: 'locked' });
      expect(warehouse.log.some((r) => r.kind === 'bulk')).toBe(false);
      const locks = warehouse.log.filter((r) => r.kind === 'query' && /sp_getapplock/.test(r.sql));
      expect(locks.map((r) => (r.kind === 'query' ? r.params : []))).toEqual([
        ['ferry.ddl.ferry', -1],
        ['ferry.load.ferry.events', 0],
        ['ferry.load.ferry.source_counts', 0],
      ].slice(0, locks.length));
    });
  }

  if (name === 'synapse' || name === 'fabric') {
    it('skips the table while another run holds its lease, and always releases a lease it took', async () => {
      await putParsed(store, 'parsed/events/2026-11-23/a.csv.gz', 'ios-two-events');
      answers = (sql, params) => (/^UPDATE \S+load_leases\S* SET run_id = @p1/.test(sql) ? { count: 0 } : healthy(2)(sql, params));
      const held = await run('run-held');
      expect(held.tables[0]).toMatchObject({ files: 0, skipped: 'locked' });
      expect(warehouse.log.some((r) => r.kind === 'query' && r.sql.startsWith('COPY INTO'))).toBe(false);

      warehouse.log.length = 0;
      answers = (sql, params) => (/^COPY INTO/.test(sql) ? { error: Object.assign(new Error('Bulk load data conversion error'), { number: 13812 }) } : healthy(2)(sql, params));
      const failed = await run('run-fails');
      expect(failed.tables[0]!.error).toMatchObject({ keys: ['parsed/events/2026-11-23/a.csv.gz'] });
      const shapes = warehouse.shapes();
      const release = shapes.findIndex((s) => /SET run_id = NULL/.test(s));
      expect(release).toBeGreaterThan(shapes.indexOf('ROLLBACK'));
    });
  }
});
