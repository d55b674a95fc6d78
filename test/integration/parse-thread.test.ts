import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { readConfig } from '../../core/config.js';
import { FerryError } from '../../core/errors.js';
import { ParseThread, ParseThreadError, type ParseWorkerData } from '../../functions/local/parse-thread.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { listKeys } from '../support/streams.js';

// The built script, as `ferry serve` runs it (npm test builds first).
const script = new URL('../../dist/local/parse-worker.js', import.meta.url);
const crashing = new URL('../support/crashing-parse-worker.mjs', import.meta.url);

/** Nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat, counted after the command name). */
function threadNices(): Map<number, number> {
  return new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    }),
  );
}

/** Child processes of this process (any of its threads), from /proc. */
function childPids(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

describe('ParseThread (the local runner parsing on a worker thread)', () => {
  let dir: string;
  let store: FsBlobStore;
  let data: ParseWorkerData;
  const threads: ParseThread[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-parse-thread-'));
    store = new FsBlobStore(dir);
    data = { storeRoot: dir, rulesFiles: [repoPath('docs/rules/api-nginx.yml')], parser: readConfig({}).parser, logLevel: 'error' };
  });
  afterEach(async () => {
    for (const thread of threads.splice(0)) await thread.close();
    await rm(dir, { recursive: true, force: true });
  });

  function parseThread(at: URL, onExit?: (threadId: number) => void, maxHeapMb?: number): ParseThread {
    const thread = new ParseThread(at, data, { ...(onExit ? { onExit } : {}), ...(maxHeapMb ? { maxHeapMb } : {}) });
    threads.push(thread);
    return thread;
  }

  it('parses on a thread of this process at a lower priority (no child process), and answers a failed parse with its key', async () => {
    const parser = parseThread(script);
    const children = childPids();
    await store.put('logs/nginx/a.log', fixtureBytes('logs/api-nginx.log'));
    await parser.parse({ key: 'logs/nginx/a.log' });
    expect((await listKeys(store, 'parsed/')).length).toBeGreaterThan(0);
    expect(childPids()).toEqual(children);
    // The parse thread is lowered, and with it the thread it would start; this thread is not.
    const nices = threadNices();
    expect([...nices.values()].filter((n) => n === 10).length).toBeGreaterThan(0);
    expect(nices.get(process.pid)).toBe(0);

    // An input no rules file handles: the thread answers with the failure, naming the input.
    await store.put('elsewhere/a.log', Buffer.from('x\n'));
    const failure = await parser.parse({ key: 'elsewhere/a.log' }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ParseThreadError);
    expect((failure as ParseThreadError).fields).toMatchObject({ key: 'elsewhere/a.log', error_code: 'parse_failed' });
  }, 60_000);

  it('a thread stopped with a parse in hand fails that parse; the next parse starts a fresh thread', async () => {
    const exited: number[] = [];
    const parser = parseThread(script, (threadId) => exited.push(threadId));
    const big = Buffer.concat(Array.from({ length: 4000 }, () => fixtureBytes('logs/api-nginx.log')));
    await store.put('logs/nginx/big.log', big);
    const inHand = parser.parse({ key: 'logs/nginx/big.log' }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await parser.close();
    const stopped = await inHand;
    expect(stopped).toBeInstanceOf(FerryError);
    expect((stopped as FerryError).code).toBe('parse');
    expect((stopped as FerryError).message).toMatch(/the parse thread exited/);
    expect(exited).toHaveLength(1);

    await parser.parse({ key: 'logs/nginx/big.log' });
    expect((await listKeys(store, 'parsed/')).some((key) => key.includes('big'))).toBe(true);
  }, 120_000);

  it('a thread that dies of an uncaught error fails the parses in hand with its cause, and the next parse starts a new thread', async () => {
    const exited: number[] = [];
    const parser = parseThread(crashing, (threadId) => exited.push(threadId));
    const first = (await parser.parse({ key: 'a' })) as unknown as { thread: number };
    const [crashed, queued] = await Promise.all([parser.parse({ key: 'crash' }).catch((err: unknown) => err), parser.parse({ key: 'b' }).catch((err: unknown) => err)]);
    for (const failed of [crashed, queued]) {
      expect(failed).toBeInstanceOf(FerryError);
      expect((failed as FerryError).message).toMatch(/the parse thread exited \(code 1: a parse bug\)/);
      expect(((failed as FerryError).cause as Error).message).toBe('a parse bug');
    }
    expect(exited).toEqual([first.thread]);
    const after = (await parser.parse({ key: 'c' })) as unknown as { thread: number };
    expect(after.thread).not.toBe(first.thread);
  }, 30_000);

  it('a parse that outgrows the heap limit ends its thread, not this process; the next parse starts a new thread', async () => {
    const exited: number[] = [];
    const parser = parseThread(crashing, (threadId) => exited.push(threadId), 32);
    const failed = await parser.parse({ key: 'hog' }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(FerryError);
    expect((failed as FerryError).message).toMatch(/the parse thread exited \(code 1: .*out of memory/i);
    expect(exited).toHaveLength(1);
    expect(await parser.parse({ key: 'c' })).toMatchObject({ source_key: 'c' });
  }, 60_000);

  it('a thread that exits after the next one started fails only its own parses', async () => {
    const parser = parseThread(crashing);
    await parser.parse({ key: 'a' });
    const blocked = parser.parse({ key: 'block' }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 200));
    // Stopped while blocked: it exits about 1 s later, while the next thread has a parse in hand.
    const stopped = parser.close();
    const next = parser.parse({ key: 'slow' });
    await stopped;
    expect(await blocked).toBeInstanceOf(FerryError);
    expect(await next).toMatchObject({ source_key: 'slow' });
  }, 30_000);
});
