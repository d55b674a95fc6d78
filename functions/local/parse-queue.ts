/**
 * The local runner's parse queue: tasks by key, at most `width` running at once, started in the
 * order they were added; a key already waiting is not added again (a notification and the
 * start-up scan may both name the same object). A key added while its task runs is queued once
 * more after it ends: the object may have been written again after the running parse read it.
 */
export class ParseQueue {
  private readonly waiting: { key: string; task: () => Promise<unknown> }[] = [];
  // Index of the next waiting task: shifting a long backlog one by one would copy it each time.
  private head = 0;
  private running = 0;
  private readonly keys = new Set<string>();
  private readonly runningKeys = new Set<string>();
  // Added again while running: queued when the running task ends.
  private readonly again = new Map<string, () => Promise<unknown>>();
  private idleWaiters: (() => void)[] = [];

  /** `onError` hears of each task that failed; the queue carries on with the others. */
  constructor(
    private readonly width: number,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  /** Queues `task` under `key` unless that key is already waiting (running: see the class). */
  add(key: string, task: () => Promise<unknown>): void {
    if (this.runningKeys.has(key)) {
      this.again.set(key, task);
      return;
    }
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.waiting.push({ key, task });
    this.pump();
  }

  /** Resolves once nothing is waiting or running, including tasks added while it waits. */
  idle(): Promise<void> {
    if (this.keys.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.width && this.head < this.waiting.length) {
      const { key, task } = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined as never; // let the task go once it has run
      // Taken slots are dropped when the queue empties, and now and then under steady load, where it may never empty.
      if (this.head === this.waiting.length || this.head >= 1024) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.running++;
      this.runningKeys.add(key);
      Promise.resolve()
        .then(task)
        .catch((err: unknown) => this.onError(key, err))
        .finally(() => {
          this.running--;
          this.runningKeys.delete(key);
          this.keys.delete(key);
          const next = this.again.get(key);
          if (next) {
            this.again.delete(key);
            this.add(key, next);
          }
          this.pump();
          if (this.keys.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
        });
    }
  }
}
