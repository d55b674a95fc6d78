import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParseQueue, type RetryPolicy, type TaskFailure } from '../../functions/local/parse-queue.js';

/** A task that runs until released, recording when it started. */
function gated(log: string[], name: string) {
  let release!: (fail?: Error) => void;
  const done = new Promise<void>((resolve, reject) => (release = (fail) => (fail ? reject(fail) : resolve())));
  return { task: () => (log.push(name), done), release };
}

const tick = () => new Promise((r) => setImmediate(r));
const noRetry: RetryPolicy = { firstDelayMs: 1, maxDelayMs: 1, retryable: () => false };

describe('ParseQueue', () => {
  it('runs at most `width` tasks at once, in the order they were added', async () => {
    const started: string[] = [];
    const queue = new ParseQueue(2, { onFailure: () => {} });
    const tasks = ['a', 'b', 'c', 'd'].map((k) => ({ k, ...gated(started, k) }));
    for (const t of tasks) queue.add(t.k, t.task);
    await tick();
    expect(started).toEqual(['a', 'b']);
    tasks[1]!.release();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    tasks[0]!.release();
    tasks[2]!.release();
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    tasks[3]!.release();
    await queue.idle();
  });

  it('does not queue a key that is waiting; a key added while it runs runs once more after it', async () => {
    const started: string[] = [];
    const queue = new ParseQueue(1, { onFailure: () => {} });
    const first = gated(started, 'k');
    queue.add('k', first.task);
    queue.add('other', () => (started.push('other'), Promise.resolve()));
    await tick();
    // Written again twice while its parse runs: one more parse, the latest task.
    queue.add('k', () => (started.push('k again'), Promise.resolve()));
    queue.add('k', () => (started.push('k again, latest'), Promise.resolve()));
    queue.add('other', () => (started.push('other again'), Promise.resolve()));
    first.release();
    await queue.idle();
    expect(started).toEqual(['k', 'other', 'k again, latest']);
    queue.add('k', () => (started.push('k later'), Promise.resolve()));
    await queue.idle();
    expect(started).toEqual(['k', 'other', 'k again, latest', 'k later']);
  });

  it('reports a failed task and goes on; idle() also waits for tasks added meanwhile', async () => {
    const errors: [string, unknown][] = [];
    const started: string[] = [];
    const queue = new ParseQueue(2, { onFailure: ({ key, err }) => void errors.push([key, err]), retry: { ...noRetry } });
    const bad = gated(started, 'bad');
    queue.add('bad', bad.task);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    bad.release(new Error('boom'));
    queue.add('late', () => (started.push('late'), new Promise((r) => setTimeout(r, 20))));
    await tick();
    expect(idle).toBe(false);
    await waiting;
    expect(started).toEqual(['bad', 'late']);
    expect(errors.map(([k, e]) => [k, (e as Error).message])).toEqual([['bad', 'boom']]);
  });

  it('does not keep the slots of tasks taken while new ones keep arriving', async () => {
    const queue = new ParseQueue(1, { onFailure: () => {} });
    // The queue's own array (private): without compaction it would grow by a slot per task here.
    const slots = () => (queue as unknown as { waiting: unknown[] }).waiting.length;
    let done = 0;
    let most = 0;
    // Two waiting from the start, and each task adds one more: the queue never runs empty.
    const add = (i: number) =>
      queue.add(`k${i}`, async () => {
        if (i + 2 < 10_000) add(i + 2);
        most = Math.max(most, slots());
        done++;
      });
    add(0);
    add(1);
    await queue.idle();
    expect(done).toBe(10_000);
    expect(most).toBeLessThan(1100);
  });

  it('works through a long backlog', async () => {
    let done = 0;
    const queue = new ParseQueue(2, { onFailure: () => {} });
    for (let i = 0; i < 5000; i++) queue.add(`k${i}`, async () => void done++);
    await queue.idle();
    expect(done).toBe(5000);
  });

  it('a scan does not queue a key while it is parsed, while a write of it does', async () => {
    const started: string[] = [];
    const queue = new ParseQueue(1, { onFailure: () => {} });
    const first = gated(started, 'log');
    queue.add('log', first.task);
    await tick();
    // The load tick's scan finds no summary yet: the running parse must not be queued again.
    queue.addFound('log', () => (started.push('log found by a scan'), Promise.resolve()));
    first.release();
    await queue.idle();
    expect(started).toEqual(['log']);

    const second = gated(started, 'log 2');
    queue.add('log', second.task);
    await tick();
    queue.add('log', () => (started.push('log written again'), Promise.resolve()));
    second.release();
    await queue.idle();
    expect(started).toEqual(['log', 'log 2', 'log written again']);
    // Idle: a scan queues it like anything else.
    queue.addFound('log', () => (started.push('log found'), Promise.resolve()));
    await queue.idle();
    expect(started.at(-1)).toBe('log found');
  });

  describe('retries', () => {
    afterEach(() => void vi.useRealTimers());
    const policy: RetryPolicy = { firstDelayMs: 1000, maxDelayMs: 4000, retryable: (err) => (err as Error).message !== 'gone' };

    it('after a back-off one failed key is tried; when it goes through, every failed key runs again', async () => {
      vi.useFakeTimers();
      let down = true; // the parse process was killed: every parse in hand failed
      const runs: string[] = [];
      const failures: TaskFailure[] = [];
      const retried: number[] = [];
      const queue = new ParseQueue(2, { onFailure: (f) => void failures.push(f), onRetried: (n) => void retried.push(n), retry: policy });
      const task = (key: string) => async () => {
        runs.push(key);
        if (down) throw new Error('the parse process exited (SIGKILL)');
      };
      for (const key of ['a', 'b', 'c']) queue.add(key, task(key));
      await queue.idle();
      expect(failures.map((f) => [f.key, f.attempts, f.willRetry])).toEqual([['a', 1, true], ['b', 1, true], ['c', 1, true]]);
      expect(queue.failedKeys).toBe(3);
      // Still down: only the probe runs, and the back-off doubles.
      await vi.advanceTimersByTimeAsync(1000);
      await queue.idle();
      expect(runs).toEqual(['a', 'b', 'c', 'a']);
      await vi.advanceTimersByTimeAsync(1999);
      expect(runs).toHaveLength(4);
      down = false;
      // The next probe is the next failed key; it goes through and takes the others with it.
      await vi.advanceTimersByTimeAsync(1);
      await queue.idle();
      expect(runs).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
      expect(retried).toEqual([3]);
      expect(queue.failedKeys).toBe(0);
      expect(failures.map((f) => `${f.key}${f.attempts}`)).toEqual(['a1', 'b1', 'c1', 'a2']);
    });

    it('one input that always fails holds back no other, and its back-off stops growing at the cap', async () => {
      vi.useFakeTimers();
      const runs: string[] = [];
      let transient = true;
      const failures: TaskFailure[] = [];
      const queue = new ParseQueue(1, { onFailure: (f) => void failures.push(f), retry: policy });
      queue.add('poison', async () => {
        runs.push('poison');
        throw new Error('always');
      });
      queue.add('ok', async () => {
        runs.push('ok');
        if (transient) throw new Error('once');
      });
      await queue.idle();
      transient = false;
      for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(4000);
      expect(runs.filter((r) => r === 'ok')).toHaveLength(2);
      expect(queue.failedKeys).toBe(1);
      // Ten periods of the cap: the poison key was tried about once per period, not more.
      const poisonRuns = runs.filter((r) => r === 'poison').length;
      expect(poisonRuns).toBeGreaterThanOrEqual(8);
      expect(poisonRuns).toBeLessThanOrEqual(13);
      expect(failures.filter((f) => f.key === 'poison').at(-1)).toMatchObject({ attempts: poisonRuns, willRetry: true });
    });

    it('does not retry a failure the policy calls final, a scan leaves a failed key to its back-off, a write retries it at once, close stops retries', async () => {
      vi.useFakeTimers();
      const runs: string[] = [];
      const failures: TaskFailure[] = [];
      const queue = new ParseQueue(1, { onFailure: (f) => void failures.push(f), retry: policy });
      queue.add('deleted', async () => {
        runs.push('deleted');
        throw new Error('gone');
      });
      queue.add('k', async () => {
        runs.push('k');
        throw new Error('disk full');
      });
      await queue.idle();
      expect(failures.map((f) => [f.key, f.willRetry])).toEqual([['deleted', false], ['k', true]]);
      expect(queue.failedKeys).toBe(1);
      queue.addFound('k', async () => void runs.push('k found by a scan'));
      await queue.idle();
      expect(runs).toEqual(['deleted', 'k']);
      queue.add('k', async () => void runs.push('k written again'));
      await queue.idle();
      expect(runs).toEqual(['deleted', 'k', 'k written again']);
      expect(queue.failedKeys).toBe(0);

      queue.add('j', async () => {
        runs.push('j');
        throw new Error('disk full');
      });
      await queue.idle();
      queue.close();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(runs.filter((r) => r === 'j')).toHaveLength(1);
      expect(queue.failedKeys).toBe(0);
    });
  });
});
