import { describe, expect, it } from 'vitest';
import { ParseQueue } from '../../functions/local/parse-queue.js';

/** A task that runs until released, recording when it started. */
function gated(log: string[], name: string) {
  let release!: (fail?: Error) => void;
  const done = new Promise<void>((resolve, reject) => (release = (fail) => (fail ? reject(fail) : resolve())));
  return { task: () => (log.push(name), done), release };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ParseQueue', () => {
  it('runs at most `width` tasks at once, in the order they were added', async () => {
    const started: string[] = [];
    const queue = new ParseQueue(2, () => {});
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
    const queue = new ParseQueue(1, () => {});
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
    const queue = new ParseQueue(2, (key, err) => errors.push([key, err]));
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
    const queue = new ParseQueue(1, () => {});
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
    const queue = new ParseQueue(2, () => {});
    for (let i = 0; i < 5000; i++) queue.add(`k${i}`, async () => void done++);
    await queue.idle();
    expect(done).toBe(5000);
  });
});
