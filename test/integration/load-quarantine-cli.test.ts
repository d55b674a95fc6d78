import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { eventTable } from '../../core/model/event-table.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import { ferryCli } from '../support/ferry-process.js';
import { fixtureJson } from '../support/fixtures.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/** Runs the built CLI as a user does: its own environment (only PATH inherited). */
function ferry(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [ferryCli, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 120_000 });
}

/** A parsed events file of one session; `spoil` may make one row's parameters JSON hold a NUL escape. */
async function putParsed(store: FsBlobStore, key: string, session: string, spoil = false): Promise<void> {
  const collection = { ...decodeCollectionJson(fixtureJson('collections/ios-two-events.json')), session };
  const rows = flattenRawRecord({ received_at: '2026-11-29T10:00:00.000Z', sent_at: null, ip: null, collection }, `raw/${session}`);
  if (spoil) rows[0]![eventTable.columns.findIndex((c) => c.name === 'parameters')] = '{"note":"a\\u0000b"}';
  await store.put(key, gzipSync(rows.map(encodeCsvRow).join('')), { ferry_rows: String(rows.length) });
}

describe('ferry load and ferry status with a file PostgreSQL refuses (the built CLI, in a child process)', () => {
  const schema = uniqueSchema('cliq');
  let dir: string;
  afterAll(async () => {
    await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the other files, exits 1 naming the quarantined one, status shows it and exits 1, and --retry-quarantined loads it once fixed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-cli-quarantine-'));
    const store = new FsBlobStore(join(dir, 'store'));
    const bad = 'parsed/events/2026-11-29/02-nul.csv.gz';
    await putParsed(store, 'parsed/events/2026-11-29/01-good.csv.gz', 's-good');
    await putParsed(store, bad, 's-bad', true);
    await putParsed(store, 'parsed/events/2026-11-29/03-good.csv.gz', 's-good-too');
    const env = { FERRY_DATA_DIR: dir, DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema, FERRY_LOG_LEVEL: 'error' };

    const load = ferry(['load'], env);
    expect(load.status, load.stderr).toBe(1);
    expect(load.stderr).toContain(bad);
    const result = JSON.parse(load.stdout) as { tables: { table: string; files: number; quarantined?: { key: string; sqlstate: string }[] }[] };
    expect(result.tables[0]).toMatchObject({ table: 'events', files: 2, quarantined: [{ key: bad, sqlstate: '22P05' }] });

    const status = ferry(['status', '--json'], env);
    expect(status.status, status.stderr).toBe(1);
    expect((JSON.parse(status.stdout) as { quarantined: { key: string }[] }).quarantined.map((q) => q.key)).toEqual([bad]);
    expect(ferry(['status'], env).stdout).toMatch(/quarantined .*: 1\n {2}parsed\/events\/2026-11-29\/02-nul\.csv\.gz .*22P05/);

    // Retried before a fix: refused again. After the fix: loaded, and status is healthy.
    expect(ferry(['load', '--retry-quarantined'], env).status).toBe(1);
    await putParsed(store, bad, 's-bad');
    const retried = ferry(['load', '--retry-quarantined'], env);
    expect(retried.status, retried.stderr).toBe(0);
    expect((JSON.parse(retried.stdout) as { tables: { files: number }[] }).tables[0]!.files).toBe(1);
    const healthy = ferry(['status', '--json', '--older-than', '100000000'], env);
    expect(healthy.status, healthy.stdout).toBe(0);
    expect((JSON.parse(healthy.stdout) as { quarantined: unknown[] }).quarantined).toEqual([]);
  });
});
