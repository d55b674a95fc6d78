// Loader benchmark (not a test). Writes --rows event rows (default 5,000,000) as gzip'd parsed
// files of 100,000 rows (the parser's CSV format and metadata) into a filesystem store, then
//   1. loads them with `runLoad` into PostgreSQL (COPY into the target under a savepoint, per-file
//      row-count check, manifest rows, one transaction), and
//   2. as the limit, in the same run, copies the same files with
//      psql -c "\copy <identical table> (…) from program 'zcat …' csv"
// and prints rows/s for both and the ratio; then as many new rows among which a share of the
// sessions (--resend-share, default 0.001) are client re-sends of rows loaded before, as at-least-
// once clients send them; then the first rows again under new keys (every row a client re-send:
// staging + de-duplicating insert).
// With --by-index, what the server's insert costs by index: psql's \copy of the same files into
// the table with no index, then with the primary key, then with each time index added in turn.
// PostgreSQL: DATABASE_URL, else postgres@127.0.0.1:5432/test.
//   npm run bench:loader [-- --rows 5000000 --resend-share 0.001 --by-index]
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { FsBlobStore } from '../core/adapters/fs-blob-store.js';
import { PgWarehouse } from '../core/adapters/pg-warehouse.js';
import { runLoad } from '../core/loader/load-run.js';
import { PostgresDialect } from '../core/loader/dialects/postgres.js';
import { storedEventFingerprint } from '../core/model/event-fingerprint.js';
import { eventTable } from '../core/model/event-table.js';
import { encodeCsvRow } from '../core/parser/csv.js';
import { silentLogger } from '../core/support/json-logger.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const totalRows = option('rows', 5_000_000);
const byIndex = args.includes('--by-index');
const resendShare = option('resend-share', 0.001);
const rowsPerFile = 100_000;
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const events = ['Task.Create', 'Task.Complete', 'Task.Read', 'List.Open', 'Comment.Create', 'Reminder.Set'];

/** One realistic `events` row, in table column order. */
function row(i: number): (string | null)[] {
  const session = `s${Math.floor(i / 20).toString(16).padStart(31, '0')}`;
  const at = 1795420000 + Math.floor(i / 7);
  const time = new Date(at * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const values = [
    `device-${i % 50000}`, 'wunderlist-ios', session, String((i % 20) + 1), 'PRODUCTION', '17.1', '3.19.4', time, 'Europe/Berlin', events[i % events.length]!,
    'Apple', 'iPhone15,2', 'iOS', 'en-US', null, null, '9f2c1e7', 'en', `u-${i % 80000}`, 't-12', `203.0.113.${i % 250}`, 'DE',
    JSON.stringify({ task_id: `tsk-${i}`, source: i % 3 ? 'swipe-right' : 'button' }), `${time}.250000`, `${time}`, '0', time, `raw/events/2026/11/23/10/${Math.floor(i / rowsPerFile)}.ndjson.gz`,
  ];
  return [...values, storedEventFingerprint(Object.fromEntries(eventTable.columns.slice(0, values.length).map((c, n) => [c.name, values[n] ?? null])))];
}

const receivedAt = eventTable.columns.findIndex((c) => c.name === 'received_at');
const sourceKey = eventTable.columns.findIndex((c) => c.name === 'source_key');
const sessionRows = 20;

/** Rows of the mixed batch that re-send a stored row. */
let resentRows = 0;

/**
 * Row `i` of the mixed batch (rows `totalRows`…): new sessions, except every `1 / resendShare`-th
 * session (the first half a period in), which is a client re-sending session `i - totalRows` of
 * the first batch: the same events received an hour later in another raw object, so the same key.
 */
function mixedRow(i: number): (string | null)[] {
  const period = Math.max(1, Math.round(1 / resendShare));
  if (resendShare <= 0 || (Math.floor(i / sessionRows) + Math.floor(period / 2)) % period !== 0) return row(i);
  resentRows++;
  const resent = row(i - totalRows);
  resent[receivedAt] = resent[receivedAt]!.replace(/^(\d{4}-\d\d-\d\d )(\d\d)/, (_, day: string, hour: string) => `${day}${String((Number(hour) + 1) % 24).padStart(2, '0')}`);
  resent[sourceKey] = `raw/events/2026/11/24/resent/${Math.floor(i / rowsPerFile)}.ndjson.gz`;
  return resent;
}

/** Writes rows `from`… as gzip'd parsed files under `prefix`; returns their paths. */
async function writeFiles(store: FsBlobStore, dir: string, prefix: string, from: number, rowOf: (i: number) => (string | null)[]): Promise<string[]> {
  const files: string[] = [];
  for (let start = 0; start < totalRows; start += rowsPerFile) {
    let csv = '';
    for (let i = start; i < Math.min(totalRows, start + rowsPerFile); i++) csv += encodeCsvRow(rowOf(from + i));
    const key = `${prefix}${String(start / rowsPerFile).padStart(4, '0')}.csv.gz`;
    await store.put(key, gzipSync(csv, { level: 1 }), { ferry_rows: String(Math.min(rowsPerFile, totalRows - start)) });
    files.push(join(dir, 'store', key));
  }
  return files;
}

/**
 * psql's \copy of the files into `bench_psql.events` rebuilt with no index, then with its indexes
 * added one at a time (the primary key, then the time indexes in their declared order); prints
 * µs per row for each and what the index added.
 */
function copyByIndex(columns: string, listFile: string): void {
  const steps = [
    { name: 'no index', ddl: '' },
    { name: `+ primary key (${eventTable.key.join(', ')})`, ddl: `ALTER TABLE bench_psql.events ADD PRIMARY KEY (${eventTable.key.map((k) => `"${k}"`).join(', ')})` },
    ...(eventTable.timeIndexes ?? []).map(({ column, arrivalOrder }) => ({
      name: `+ ${arrivalOrder ? 'BRIN' : 'B-tree'} on ${column}`,
      ddl: `CREATE INDEX ON bench_psql.events${arrivalOrder ? ' USING brin' : ''} ("${column}")`,
    })),
  ];
  let previous: number | undefined;
  for (const [i, step] of steps.entries()) {
    const ddl = steps.slice(1, i + 1).map((s) => s.ddl);
    psql(['DROP TABLE IF EXISTS bench_psql.events', `CREATE TABLE bench_psql.events (LIKE bench_ferry.events INCLUDING DEFAULTS)`, ...ddl].join('; '));
    const start = performance.now();
    psql(`\\copy bench_psql.events (${columns}) from program 'xargs zcat < ${listFile}' csv`);
    const perRow = ((performance.now() - start) * 1000) / totalRows;
    console.log(`psql \\copy, ${step.name}: ${perRow.toFixed(2)} µs per row${previous === undefined ? '' : ` (${perRow - previous >= 0 ? '+' : ''}${(perRow - previous).toFixed(2)})`}`);
    previous = perRow;
  }
}

function psql(sql: string): void {
  const result = spawnSync('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-loader-'));
  const store = new FsBlobStore(join(dir, 'store'));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const warehouse = new PgWarehouse(databaseUrl);
  try {
    const files = await writeFiles(store, dir, 'parsed/events/2026-11-23/bench-', 0, row);
    console.log(`${totalRows.toLocaleString('en')} rows in ${files.length} gzip'd files; PostgreSQL ${(await client.query('show server_version')).rows[0].server_version} at ${new URL(databaseUrl).host}`);
    for (const schema of ['bench_ferry', 'bench_psql']) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);

    // The limit: psql's \copy of the same files into an identical table (same DDL, primary key).
    for (const statement of new PostgresDialect('bench_psql').createSchema([eventTable])) await client.query(statement);
    const columns = eventTable.columns.map((c) => `"${c.name}"`).join(', ');
    const listFile = join(dir, 'files.txt');
    await writeFile(listFile, files.join('\n'));
    let start = performance.now();
    psql(`\\copy bench_psql.events (${columns}) from program 'xargs zcat < ${listFile}' csv`);
    const psqlSeconds = (performance.now() - start) / 1000;

    start = performance.now();
    const result = await runLoad({ store, warehouse, logger: silentLogger, tables: [eventTable], schema: 'bench_ferry', runId: 'bench' });
    const ferrySeconds = (performance.now() - start) / 1000;
    const loaded = result.tables.find((t) => t.table === 'events')!;
    if (loaded.error) throw new Error(loaded.error.message);
    const counts = await client.query<{ ferry: string; psql: string }>('SELECT (SELECT count(*) FROM bench_ferry.events) AS ferry, (SELECT count(*) FROM bench_psql.events) AS psql');
    console.log(`psql \\copy:  ${psqlSeconds.toFixed(1)} s, ${Math.round(totalRows / psqlSeconds).toLocaleString('en')} rows/s (${counts.rows[0]!.psql} rows)`);
    console.log(`ferry load:  ${ferrySeconds.toFixed(1)} s, ${Math.round(totalRows / ferrySeconds).toLocaleString('en')} rows/s (${counts.rows[0]!.ferry} rows; copied ${loaded.rowsCopied}, inserted ${loaded.rowsInserted}, ${loaded.files} files, row counts checked, manifest rows, one transaction)`);
    console.log(`ratio: ${(psqlSeconds / ferrySeconds).toFixed(2)}× psql`);

    if (byIndex) copyByIndex(columns, listFile);

    // At-least-once clients: new rows among which a share of sessions are re-sends of stored ones.
    await writeFiles(store, dir, 'parsed/events/2026-11-24/mixed-', totalRows, mixedRow);
    start = performance.now();
    const mixed = (await runLoad({ store, warehouse, logger: silentLogger, tables: [eventTable], schema: 'bench_ferry', runId: 'bench-mixed' })).tables.find((t) => t.table === 'events')!;
    const mixedSeconds = (performance.now() - start) / 1000;
    if (mixed.error) throw new Error(mixed.error.message);
    if (mixed.rowsInserted !== totalRows - resentRows) throw new Error(`the mixed batch inserted ${mixed.rowsInserted} rows, not the ${totalRows - resentRows} new ones`);
    console.log(
      `ferry, new rows with ${(resendShare * 100).toFixed(2)} % of sessions re-sent: ${mixedSeconds.toFixed(1)} s, ${Math.round(totalRows / mixedSeconds).toLocaleString('en')} rows/s, inserted ${mixed.rowsInserted}; ratio ${(psqlSeconds / mixedSeconds).toFixed(2)}× psql`,
    );

    // Worst case: every row of the next batch is a re-send, so the fast path gives way to staging.
    for (const [i, file] of files.entries()) {
      const key = `parsed/events/2026-11-25/resend-${String(i).padStart(4, '0')}.csv.gz`;
      await store.put(key, (await import('node:fs')).createReadStream(file), { ferry_rows: String(Math.min(rowsPerFile, totalRows - i * rowsPerFile)) });
    }
    start = performance.now();
    const again = (await runLoad({ store, warehouse, logger: silentLogger, tables: [eventTable], schema: 'bench_ferry', runId: 'bench-resend' })).tables.find((t) => t.table === 'events')!;
    const resendSeconds = (performance.now() - start) / 1000;
    if (again.error) throw new Error(again.error.message);
    console.log(`ferry, every row a re-send (staging + de-duplicating insert): ${resendSeconds.toFixed(1)} s, ${Math.round(totalRows / resendSeconds).toLocaleString('en')} rows/s, inserted ${again.rowsInserted}; ratio ${(psqlSeconds / resendSeconds).toFixed(2)}× psql`);
  } finally {
    for (const schema of ['bench_ferry', 'bench_psql']) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
