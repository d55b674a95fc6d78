import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { decodeCollectionJson } from '../../core/model/decode-collection-json.js';
import { flattenRawRecord } from '../../core/model/flatten-event.js';
import { encodeCsvRow } from '../../core/parser/csv.js';
import { ferryCli, startFerry, type FerryProcess } from '../support/ferry-process.js';
import { fixtureBytes, fixtureJson, repoPath } from '../support/fixtures.js';
import { postTrack } from '../support/http-client.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

/** Runs the built CLI as a user does: its own environment (only PATH inherited), a working directory. */
function ferry(args: string[], env: Record<string, string>, cwd?: string, timeout = 60_000) {
  return spawnSync(process.execPath, [ferryCli, ...args], { env: { PATH: process.env.PATH, ...env }, cwd, encoding: 'utf8', timeout });
}

const commands = ['serve', 'query', 'load', 'status', 'compare', 'mirror-replay', 'put', 'help'];
const version = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;

describe('ferry CLI as people use it (the built bundle, in a child process)', () => {
  const dirs: string[] = [];
  const servers: FerryProcess[] = [];
  const schemas: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-cli-usage-'));
    dirs.push(dir);
    return dir;
  };
  /** A data dir as `ferry put` leaves it: a store, no warehouse yet. */
  const dataDirWithStore = async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'store'));
    return dir;
  };
  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    for (const schema of schemas) await dropSchema(schema);
  });

  it.each(commands)('ferry %s --help prints its usage and exits 0, doing nothing else', async (command) => {
    const dataDir = await tempDir();
    // A serve that started anyway would never exit: the timeout turns that into a failure, not a hang.
    const result = ferry([command, '--help'], { FERRY_DATA_DIR: dataDir, PORT: '0' }, dataDir, 20_000);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage:\\n  ferry ${command}`));
    expect(result.stdout).toContain('--help, -h');
    expect(existsSync(join(dataDir, 'warehouse'))).toBe(false);
  });

  it('ferry --version prints the package version', () => {
    const result = ferry(['--version'], {});
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`ferry ${version}\n`);
  });

  it('ferry help lists every command and every setting; an unknown command or option exits 2 naming it', () => {
    const help = ferry(['help'], {});
    expect(help.status).toBe(0);
    for (const command of commands) expect(help.stdout).toContain(`  ferry ${command}`);
    expect(help.stdout).toContain('FERRY_LOAD_INTERVAL_S');
    expect(ferry(['help', 'query'], {}).stdout).toMatch(/^Usage:\n {2}ferry query/);
    const unknown = ferry(['qeury'], {});
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('ferry: unknown command "qeury"; try ferry help\n');
    const option = ferry(['status', '--jsno'], {});
    expect(option.status).toBe(2);
    expect(option.stderr).toMatch(/^ferry: Unknown option '--jsno'.*\(see ferry status --help\)\n$/);
  });

  it('ferry put of a missing file or a directory says so in one line, without a stack trace', async () => {
    const dataDir = await dataDirWithStore();
    const missing = join(dataDir, 'access.log');
    const put = ferry(['put', missing, 'raw/events/x.log'], { FERRY_DATA_DIR: dataDir });
    expect(put.status).toBe(1);
    expect(put.stderr).toBe(`ferry: cannot put ${missing}: no such file\n`);
    const dir = ferry(['put', dataDir, 'raw/events/x.log'], { FERRY_DATA_DIR: dataDir });
    expect(dir.status).toBe(1);
    expect(dir.stderr).toBe(`ferry: cannot put ${dataDir}: it is a directory; ferry put stores one file (put each log file under its own key)\n`);
  });

  it('ferry load --from refuses a date that is not on the calendar', async () => {
    const dataDir = await dataDirWithStore();
    for (const date of ['2026-02-30', '2026-04-31', '2025-02-29']) {
      const load = ferry(['load', '--from', date], { FERRY_DATA_DIR: dataDir });
      expect(load.status).toBe(2);
      expect(load.stderr).toContain(`dates must be calendar dates YYYY-MM-DD, got ${date}`);
    }
    const compare = ferry(['compare', '--with', 'postgres://127.0.0.1/x', '--to', '2026-02-29'], { FERRY_DATA_DIR: dataDir });
    expect(compare.status).toBe(2);
    expect(compare.stderr).toContain('got 2026-02-29');
  });

  it('read-only commands run from another directory refuse to create a data dir, naming the path and FERRY_DATA_DIR', async () => {
    const elsewhere = await tempDir();
    for (const args of [['query', 'select 1'], ['status'], ['load'], ['compare', '--with', 'postgres://127.0.0.1/x'], ['mirror-replay']]) {
      const result = ferry(args, { ...(args[0] === 'mirror-replay' ? { FERRY_MIRROR_URL: `file://${elsewhere}/mirror` } : {}) }, elsewhere);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toBe(`ferry: invalid configuration\n  FERRY_DATA_DIR: is unset, so the data dir is ./data in the current directory: ${join(elsewhere, 'data')} does not exist; set FERRY_DATA_DIR to the data dir ferry serve uses\n`);
    }
    const named = join(elsewhere, 'nothing-here');
    expect(ferry(['status'], { FERRY_DATA_DIR: named }).stderr).toContain(`FERRY_DATA_DIR: is ${named}: ${named} does not exist`);
    // A directory that is not a data dir (no store/, no embedded warehouse) is not turned into one either.
    expect(ferry(['query', 'select 1'], { FERRY_DATA_DIR: elsewhere }).stderr).toContain(`${elsewhere} is not a Ferry data dir (it has no store/ and no postgres/)`);
    expect(existsSync(join(elsewhere, 'data'))).toBe(false);
    expect(existsSync(join(elsewhere, 'postgres'))).toBe(false);
    const noMirror = ferry(['mirror-replay'], { FERRY_DATA_DIR: elsewhere });
    expect(noMirror.status).toBe(2);
    expect(noMirror.stderr).toBe('ferry: invalid configuration\n  FERRY_MIRROR_URL: is not set: there is no mirror to replay to\n');
  });

  it('ferry query before any load says that no load has run yet, for the embedded warehouse and PostgreSQL', async () => {
    const dataDir = await dataDirWithStore();
    const embedded = ferry(['query', 'select count(*) from ferry.events'], { FERRY_DATA_DIR: dataDir });
    expect(embedded.status).toBe(1);
    expect(embedded.stderr).toBe(`ferry: data dir ${dataDir}\nferry: no load has run yet in ${dataDir}: its embedded warehouse is created by the first ferry serve or ferry load\n`);
    expect(existsSync(join(dataDir, 'warehouse'))).toBe(false);

    const schema = uniqueSchema('cli');
    schemas.push(schema);
    const pg = ferry(['query', `select count(*) from ${schema}.events`], { DATABASE_URL: testDatabaseUrl(), FERRY_WAREHOUSE_SCHEMA: schema });
    expect(pg.status).toBe(1);
    expect(pg.stderr).toBe(`ferry: relation "${schema}.events" does not exist: no load has run yet into schema ${schema} (the first load creates Ferry's tables: ferry serve loads every FERRY_LOAD_INTERVAL_S, ferry load loads now)\n`);
  });

  it('ferry query runs each of several statements, on PostgreSQL and the embedded warehouse', async () => {
    const pg = ferry(['query', "select 1 as a; select 'x;y' as b, 2 as c;"], { DATABASE_URL: testDatabaseUrl() });
    expect(pg.stderr).toBe('');
    expect(pg.status).toBe(0);
    expect(pg.stdout).toBe(' a\n---\n 1\n(1 row)\n\n b   | c\n-----+---\n x;y | 2\n(1 row)\n');
    const json = ferry(['query', '--json', 'select 1 as a; select 2 as b'], { DATABASE_URL: testDatabaseUrl() });
    expect(json.stdout).toBe('[{"a":1}]\n[{"b":2}]\n');

    const dataDir = await tempDir();
    const serve = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'warn', FERRY_LOAD_INTERVAL_S: '3600' });
    servers.push(serve);
    // On the server the running serve started…
    const viaServe = ferry(['query', 'select 1 as a; select 2 as b'], { FERRY_DATA_DIR: dataDir });
    expect(viaServe.stderr).toBe(`ferry: data dir ${dataDir}\n`);
    expect(viaServe.stdout).toBe(' a\n---\n 1\n(1 row)\n\n b\n---\n 2\n(1 row)\n');
    serve.child.kill('SIGTERM');
    await new Promise((resolve) => serve.child.on('exit', resolve));
    // …and on one the command starts for itself once serve stopped.
    const direct = ferry(['query', 'select 1 as a; select 2 as b'], { FERRY_DATA_DIR: dataDir });
    expect(direct.status).toBe(0);
    expect(direct.stdout).toBe(viaServe.stdout);
  });

  it('warns about a FERRY_ variable that is no setting, naming the closest one', () => {
    const result = ferry(['query', 'select 1 as a'], { DATABASE_URL: testDatabaseUrl(), FERRY_LOAD_INTERVAL: '5' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('ferry: warning: FERRY_LOAD_INTERVAL is not a Ferry setting and is ignored; did you mean FERRY_LOAD_INTERVAL_S?\n');
  });

  it('refuses at start a rules file that declares one of Ferry\'s own tables or a prefix outside the store', async () => {
    const dir = await tempDir();
    const rules = join(dir, 'own.yml');
    await writeFile(rules, 'source: x\nprefix: logs/x/\ndialects: [nginx_combined]\ntables:\n  source_counts:\n    columns: { path: text }\nrules:\n  - table: source_counts\n');
    const own = ferry(['serve'], { FERRY_DATA_DIR: dir, PORT: '0', FERRY_RULES: rules }, dir, 20_000);
    expect(own.status).toBe(2);
    expect(own.stderr).toContain(`${rules}: tables.source_counts: "source_counts" is one of Ferry's own tables`);
    expect(own.stderr).toContain(`${rules}: rules[0].table: "source_counts" is one of Ferry's own tables`);
    const outside = join(dir, 'outside.yml');
    await writeFile(outside, 'source: x\nprefix: ../../../x/\ndialects: [nginx_combined]\nrules:\n  - ignore: true\n');
    const climbing = ferry(['serve'], { FERRY_DATA_DIR: dir, PORT: '0', FERRY_RULES: outside }, dir, 20_000);
    expect(climbing.status).toBe(2);
    expect(climbing.stderr).toContain(`${outside}: prefix: must be an object key prefix ending in "/", such as logs/nginx/; "../../../x/" has a "." or ".." segment`);
  });

  it('put, status and load from another shell use the rules ferry serve runs with, and say so', async () => {
    const dataDir = await tempDir();
    const rules = repoPath('docs/rules/api-nginx.yml');
    const serve = await startFerry({ FERRY_DATA_DIR: dataDir, FERRY_LOG_LEVEL: 'warn', FERRY_LOAD_INTERVAL_S: '1', FERRY_RULES: rules });
    servers.push(serve);
    const shell = await tempDir();
    // Another shell: its own directory, FERRY_DATA_DIR but no FERRY_RULES.
    const env = { FERRY_DATA_DIR: dataDir };
    const recorded = `ferry: rules: those ferry serve runs with, recorded in ${join(dataDir, 'rules.json')}: ${rules}\n`;
    const put = ferry(['put', repoPath('test/fixtures/logs/api-nginx.log'), 'logs/nginx/api-1.log'], env, shell);
    expect(put.stderr).toBe(`${recorded}ferry: data dir ${dataDir}\n`);
    expect(put.status).toBe(0);
    expect(await postTrack(serve.url, fixtureBytes('collections/ios-two-events.json'))).toBe(200);
    let status = ferry(['status', '--older-than', '0'], env, shell);
    for (const deadline = Date.now() + 90_000; Date.now() < deadline && !/^api_requests: 1 files, 12 rows/m.test(status.stdout); ) {
      await new Promise((r) => setTimeout(r, 100));
      status = ferry(['status', '--older-than', '0'], env, shell);
    }
    expect(status.stdout, status.stderr).toMatch(/^api_requests: 1 files, 12 rows, last load \d{4}-/m);
    expect(status.stderr).toBe(`ferry: data dir ${dataDir}\n${recorded}`);
    // FERRY_RULES, when set, wins (and is named).
    const own = ferry(['put', repoPath('test/fixtures/logs/api-nginx.log'), 'logs/nginx/api-2.log'], { ...env, FERRY_RULES: join(shell, 'none.yml') }, shell);
    expect(own.status).toBe(2);
    expect(own.stderr).toContain(`FERRY_RULES: cannot read ${join(shell, 'none.yml')}: ENOENT`);
    serve.child.kill('SIGTERM');
    expect(await new Promise((resolve) => serve.child.on('exit', resolve))).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    const load = ferry(['load', '--from', today], env, shell);
    expect(load.stderr).toBe(`ferry: data dir ${dataDir}\n${recorded}`);
    expect(JSON.parse(load.stdout).tables.map((t: { table: string }) => t.table)).toContain('api_requests');
  }, 180_000);

  it('ferry status reports the parse backlog and quarantined files, and exits 1 for them', async () => {
    const dataDir = await dataDirWithStore();
    const env = { FERRY_DATA_DIR: dataDir, FERRY_RULES: repoPath('docs/rules/api-nginx.yml'), FERRY_LOG_LEVEL: 'error' };
    expect(ferry(['load'], env).status).toBe(0);
    // A log stored while no serve runs: nothing parses it.
    expect(ferry(['put', repoPath('test/fixtures/logs/api-nginx.log'), 'logs/nginx/api-1.log'], env).status).toBe(0);
    const young = ferry(['status'], env);
    expect(young.stdout).toMatch(/^unparsed \(stored, no parse summary\): 1, oldest \d+ s$/m);
    expect(young.stdout).toMatch(/^ {2}logs\/nginx\/ {2}1 inputs, oldest logs\/nginx\/api-1\.log \(\d+ s old\)$/m);
    expect(young.stdout).toContain('quarantined: none');
    expect(young.status).toBe(0);
    const stuck = ferry(['status', '--older-than', '0'], env);
    expect(stuck.stdout).toMatch(/^unparsed \(stored, no parse summary\): 1, oldest \d+ s \(older than the threshold\)$/m);
    expect(stuck.status).toBe(1);

    // A parsed file whose rows disagree with the count its parser recorded: the load quarantines it.
    const today = new Date().toISOString().slice(0, 10);
    const key = `parsed/events/${today}/bad.csv.gz`;
    const lines = flattenRawRecord({ received_at: `${today}T10:00:00Z`, sent_at: null, ip: null, collection: decodeCollectionJson(fixtureJson('collections/ios-two-events.json')) }, 'raw/bad').map(encodeCsvRow);
    await new FsBlobStore(join(dataDir, 'store')).put(key, gzipSync(lines.join('')), { ferry_rows: String(lines.length + 5) });
    const load = ferry(['load'], env);
    expect(load.status).toBe(1);
    expect(load.stderr).toContain(`ferry: the warehouse refused 1 file(s), quarantined (the rest loaded): ${key}; see ferry status, and after a fix run ferry load --retry-quarantined`);
    // A plain load skips it (unchanged); --retry-quarantined tries it again (still refused here).
    expect(ferry(['load'], env).status).toBe(0);
    const retry = ferry(['load', '--retry-quarantined'], env);
    expect(retry.status).toBe(1);
    expect(JSON.parse(retry.stdout).tables.flatMap((t: { quarantined?: { key: string }[] }) => t.quarantined ?? []).map((q: { key: string }) => q.key)).toEqual([key]);
    const quarantined = ferry(['status'], env);
    expect(quarantined.stdout).toMatch(/^quarantined \(refused by the warehouse; after a fix, ferry load --retry-quarantined\): 1$/m);
    expect(quarantined.stdout).toMatch(new RegExp(`^ {2}${key.replaceAll('.', '\\.')} {2}\\d{4}-.* \\(load_failed\\): .*row count mismatch`, 'm'));
    expect(quarantined.status).toBe(1);
    const json = JSON.parse(ferry(['status', '--json'], env).stdout) as { quarantined: { key: string }[]; parse_backlog: { count: number; oldest_key: string } };
    expect(json.quarantined.map((q) => q.key)).toEqual([key]);
    expect(json.parse_backlog).toMatchObject({ count: 1, oldest_key: 'logs/nginx/api-1.log' });
  }, 240_000); // ten commands, each opening the embedded warehouse
});
