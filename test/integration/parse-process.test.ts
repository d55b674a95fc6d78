import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { readConfig } from '../../core/config.js';
import { FerryError } from '../../core/errors.js';
import { ParseProcess, ParseProcessError } from '../../functions/local/parse-process.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { listKeys } from '../support/streams.js';

// The built script, as `ferry serve` runs it (npm test builds first).
const script = new URL('../../dist/local/parse-worker.js', import.meta.url);

/** Child processes of this process (any of its threads), from /proc. */
function childPids(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
  );
}

/** The nice value of a process (field 19 of /proc/<pid>/stat, counted after the command name). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('ParseProcess (the local runner parsing in a child process)', () => {
  let dir: string;
  let store: FsBlobStore;
  let parser: ParseProcess;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-parse-process-'));
    store = new FsBlobStore(dir);
    parser = new ParseProcess(script, { storeRoot: dir, rulesFiles: [repoPath('docs/rules/api-nginx.yml')], parser: readConfig({}).parser, logLevel: 'error' });
  });
  afterEach(async () => {
    await parser.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('parses in a child at a lower priority, reports a failed parse with its key, and survives a killed child', async () => {
    const before = new Set(childPids());
    await store.put('logs/nginx/a.log', fixtureBytes('logs/api-nginx.log'));
    await parser.parse({ key: 'logs/nginx/a.log' });
    expect((await listKeys(store, 'parsed/')).length).toBeGreaterThan(0);

    const child = childPids().find((pid) => !before.has(pid))!;
    expect(child).toBeGreaterThan(0);
    expect(niceOf(child)).toBe(10);

    // An input no rules file handles: the child answers with the failure, naming the input.
    await store.put('elsewhere/a.log', Buffer.from('x\n'));
    const failure = await parser.parse({ key: 'elsewhere/a.log' }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ParseProcessError);
    expect((failure as ParseProcessError).fields).toMatchObject({ key: 'elsewhere/a.log', error_code: 'parse_failed' });

    // Killed while a parse is in hand: that parse fails; the next one starts a fresh child.
    const big = Buffer.concat(Array.from({ length: 4000 }, () => fixtureBytes('logs/api-nginx.log')));
    await store.put('logs/nginx/big.log', big);
    const inHand = parser.parse({ key: 'logs/nginx/big.log' }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(child, 'SIGKILL');
    const killed = await inHand;
    expect(killed).toBeInstanceOf(FerryError);
    expect((killed as FerryError).code).toBe('parse');
    expect((killed as FerryError).message).toMatch(/exited \(SIGKILL\)/);

    await parser.parse({ key: 'logs/nginx/big.log' });
    const again = childPids().filter((pid) => !before.has(pid) && pid !== child);
    expect(again).toHaveLength(1);
    expect((await listKeys(store, 'parsed/')).some((key) => key.includes('big'))).toBe(true);
  }, 120_000);
});
