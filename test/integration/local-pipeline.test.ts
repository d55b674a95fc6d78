import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfig, type FerryConfig } from '../../core/config.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { startLocalPipeline } from '../../functions/local/local-pipeline.js';
import { fixtureBytes, fixtureJson, fixtureNames, repoPath } from '../support/fixtures.js';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { localPaths } from '../../functions/local/local-pipeline.js';
import { gzipSync } from 'node:zlib';
import { expectedRows, sessionOf } from '../support/expected-event-rows.js';
import { postTrack } from '../support/http-client.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

const eventColumns = 'device_id, client_id, session, nr, env, system_version, product_version, at, timezone, event, device_make, device_model, system, system_language, browser, browser_version, product_git_hash, product_language, user_id, tenant_id, ip, country, parameters';


const targets: [string, () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>][] = [
  ['the embedded warehouse', async () => ({ env: {}, cleanup: async () => {} })],
  ['PostgreSQL', async () => {
    const schema = uniqueSchema('pipe');
    return { env: { DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema }, cleanup: () => dropSchema(schema) };
  }],
];

describe.each(targets)('local pipeline end to end into %s', (_name, target) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('loads every posted field, and a restart or re-run never duplicates a row or reloads a file', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-e2e-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const { env, cleanup } = await target();
    cleanups.push(cleanup);
    const config: FerryConfig = readConfig({ ...env, FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOAD_INTERVAL_S: '3600' });
    const schema = config.warehouseSchema;

    let pipeline = await startLocalPipeline(config, silentLogger);
    const names = fixtureNames('collections');
    const expected = [];
    for (const name of names) {
      const collection = fixtureJson(`collections/${name}.json`);
      expect(sessionOf(collection)).toBe(collection.session);
      const rows = expectedRows(collection, '127.0.0.1');
      expect(await postTrack(pipeline.url, fixtureBytes(`collections/${name}.json`))).toBe(rows.length > 0 ? 200 : 204);
      expected.push(...rows);
    }
    expect(await postTrack(pipeline.url, '{"device_id":')).toBe(400);
    await pipeline.parsed();
    const first = await pipeline.loadNow();
    expect(first.tables).toEqual([
      { table: 'events', files: 3, rowsCopied: expected.length, rowsInserted: expected.length },
      // The refused request's record is written once its window (the load interval) ends.
      { table: 'rejections', files: 0, rowsCopied: 0, rowsInserted: 0 },
      { table: 'source_counts', files: 3, rowsCopied: 3, rowsInserted: 3 },
    ]);
    // Every parsed input is accounted for in SQL: its lines, and where each went.
    const accounting = await pipeline.warehouse.query<Record<string, unknown>>(
      `SELECT source, sum(lines)::int AS lines, sum(accepted)::int AS accepted, sum(ignored + rejected)::int AS other, sum((rows->>'events')::int)::int AS rows FROM "${schema}".source_counts GROUP BY source`,
    );
    expect(accounting).toEqual([{ source: 'events', lines: 3, accepted: 3, other: 0, rows: expected.length }]);

    const sort = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => `${a.session}/${a.nr}`.localeCompare(`${b.session}/${b.nr}`));
    const loaded = await pipeline.warehouse.query(`SELECT ${eventColumns}, received_at, source_key FROM "${schema}".events`);
    expect(loaded).toHaveLength(expected.length);
    const withoutServerFields = loaded.map(({ received_at: _r, source_key: _s, ...rest }) => rest);
    expect(sort(withoutServerFields)).toEqual(sort(expected));
    for (const row of loaded) {
      expect(row.received_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/);
      expect(row.source_key).toMatch(/^raw\/events\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[0-9A-Z]{26}\.ndjson\.gz$/);
    }

    // A client re-sends a batch it did not see acknowledged: stored once.
    expect(await postTrack(pipeline.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    await pipeline.parsed();
    const resend = await pipeline.loadNow();
    expect(resend.tables[0]).toMatchObject({ files: 1, rowsCopied: 2, rowsInserted: 0 });
    await pipeline.stop();

    // Restart: nothing is parsed or loaded twice.
    pipeline = await startLocalPipeline(config, silentLogger);
    await pipeline.parsed();
    const again = await pipeline.loadNow();
    expect(again.tables[0]).toMatchObject({ files: 0, rowsInserted: 0 });
    const [counts] = await pipeline.warehouse.query<{ rows: string; files: string }>(
      `SELECT (SELECT count(*) FROM "${schema}".events)::text AS rows, (SELECT count(*) FROM "${schema}".load_manifest)::text AS files`,
    );
    // 4 parsed files + their 4 summaries, and the refused request's record (stored on the way out) + its summary.
    expect(counts).toEqual({ rows: String(expected.length), files: '10' });
    expect(await pipeline.warehouse.query(`SELECT status::int AS status, reason, requests::int AS requests FROM "${schema}".rejections`)).toEqual([{ status: 400, reason: 'invalid_body', requests: 1 }]);
    await pipeline.stop();
  });

  it('parses and loads a server log dropped in the store by another process, beside the collector events', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-e2e-log-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const { env, cleanup } = await target();
    cleanups.push(cleanup);
    const config = readConfig({ ...env, FERRY_DATA_DIR: dataDir, PORT: '0', FERRY_LOAD_INTERVAL_S: '1', FERRY_RULES: repoPath('docs/rules/api-nginx.yml') });
    const schema = config.warehouseSchema;
    const pipeline = await startLocalPipeline(config, silentLogger);
    try {
      expect(await postTrack(pipeline.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
      // What `ferry put` or a log shipper does: an atomic put from outside, so no in-process notification.
      // Dated by today, as shippers name logs: older partitions are outside the timer's look-back window.
      const today = new Date().toISOString().slice(0, 10);
      await new FsBlobStore(localPaths(dataDir).store).put(`logs/nginx/${today.replaceAll('-', '/')}/api-1.log.gz`, gzipSync(fixtureBytes('logs/api-nginx.log')));
      const count = async (table: string) => {
        try {
          const [row] = await pipeline.warehouse.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}".${table}`);
          return Number(row!.n);
        } catch {
          return 0; // the table appears with the first load run
        }
      };
      for (let i = 0; i < 300 && ((await count('api_requests')) < 12 || (await count('events')) < 2); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await count('api_requests')).toBe(12);
      expect(await count('events')).toBe(2);
      const events = await pipeline.warehouse.query<{ event: string; n: string }>(
        `SELECT event, count(*)::text AS n FROM "${schema}".api_requests GROUP BY event ORDER BY event`,
      );
      expect(events.map((e) => `${e.event}:${e.n}`)).toEqual([
        'Api.reminders.GET:1', 'Comment.Create:1', 'List.Read:1', 'List.Tasks:1', 'Task.Create:1', 'Task.Delete:1', 'Task.List:1', 'Task.Read:2', 'Task.Update:2', 'User.Login:1',
      ]);
      const [typed] = await pipeline.warehouse.query<Record<string, unknown>>(
        `SELECT time::text AS time, object_id::text AS object_id, request_time::text AS request_time, status::text AS status FROM "${schema}".api_requests WHERE line_number = 2`,
      );
      expect(typed).toEqual({ time: '2026-11-23 09:00:02', object_id: '123', request_time: '0.034', status: '200' });
      // The log's accounting, per source and day, as a data-quality check would read it.
      for (let i = 0; i < 100 && (await count('source_counts')) < 2; i++) await new Promise((r) => setTimeout(r, 100));
      const quality = await pipeline.warehouse.query<Record<string, unknown>>(
        `SELECT source, date, lines::int, accepted::int, ignored::int, rejected::int, ignored_by, rows FROM "${schema}".source_counts WHERE source = 'api_nginx'`,
      );
      expect(quality).toEqual([{
        source: 'api_nginx', date: today, lines: 23, accepted: 12, ignored: 8, rejected: 3,
        ignored_by: { blank: 1, filtered: 0, rule: 5, unmatched: 2 }, rows: { api_requests: 12 },
      }]);
    } finally {
      await pipeline.stop();
    }
  });
});
