/** How a failed task is retried. */
export interface RetryPolicy {
  /** Wait before the first retry, in ms. */
  firstDelayMs: number;
  /** Longest wait between retries, in ms; the wait doubles from `firstDelayMs` up to it. */
  maxDelayMs: number;
  /** Whether a failure is worth retrying (a deleted input is not). */
  retryable(err: unknown): boolean;
}

/** What the queue tells its owner about a failed task. */
export interface TaskFailure {
  key: string;
  err: unknown;
  /** Failures of this key in a row, this one included. */
  attempts: number;
  /** Whether the key will be retried while the queue lives. */
  willRetry: boolean;
}

/** What the queue reports to its owner. */
export interface ParseQueueOptions {
  /** Hears of each task that failed; the queue carries on with the others. */
  onFailure(failure: TaskFailure): void;
  /** Hears that a retry went through: `keys` failed keys, that one included, are run again. */
  onRetried?(keys: number): void;
  retry?: RetryPolicy;
}

interface Task {
  key: string;
  task: () => Promise<unknown>;
}

const defaultPolicy: RetryPolicy = { firstDelayMs: 1000, maxDelayMs: 60_000, retryable: () => true };

/**
 * The local runner's parse queue: tasks by key, at most `width` running at once, started in the
 * order they were added.
 *
 * Two ways in. `add` is a notification that the key was (re)written: a key already waiting is
 * not added again (its task reads the version current when it runs), and a key added while its
 * task runs is queued once more after it, since the object may have been written again after the
 * running task read it. `addFound` is a scan that found the key without a summary: it is skipped
 * while the key waits, runs or waits for a retry (a running parse has no summary yet; queueing
 * it again parsed a large log twice).
 *
 * A failed task is retried while the queue lives. Failures that strike every input at once (a
 * parse thread that died, a full disk) would otherwise retry thousands of keys in vain, so retries
 * are probed: after a back-off one failed key is tried again; when it succeeds every failed key
 * is queued again at once, when it fails the back-off doubles (up to `maxDelayMs`) and the next
 * failed key is the next probe, so one input that always fails holds back no other.
 */
export class ParseQueue {
  private readonly waiting: (Task | undefined)[] = [];
  // Index of the next waiting task: shifting a long backlog one by one would copy it each time.
  private head = 0;
  private running = 0;
  private readonly keys = new Set<string>();
  private readonly runningKeys = new Set<string>();
  // Added again while running: queued when the running task ends.
  private readonly again = new Map<string, () => Promise<unknown>>();
  private idleWaiters: (() => void)[] = [];
  // Failed keys waiting for a retry, oldest failure first, and failures in a row per key.
  private readonly failed = new Map<string, () => Promise<unknown>>();
  private readonly attempts = new Map<string, number>();
  private probe: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private closed = false;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly width: number,
    private readonly options: ParseQueueOptions,
  ) {
    this.policy = options.retry ?? defaultPolicy;
    this.delayMs = this.policy.firstDelayMs;
  }

  /** The key was written (again): queues `task` unless the key is already waiting (running: see the class). */
  add(key: string, task: () => Promise<unknown>): void {
    if (this.runningKeys.has(key)) {
      this.again.set(key, task);
      return;
    }
    if (this.failed.delete(key)) this.settleRetries();
    this.enqueue(key, task);
  }

  /** A scan found the key unparsed: queues `task` unless the key is waiting, running or failed. */
  addFound(key: string, task: () => Promise<unknown>): void {
    if (this.runningKeys.has(key) || this.failed.has(key)) return;
    this.enqueue(key, task);
  }

  /** Keys waiting for a retry. */
  get failedKeys(): number {
    return this.failed.size;
  }

  /**
   * Resolves once nothing is waiting or running, including tasks added while it waits. Keys
   * waiting for a retry do not count: one that always fails would keep it from resolving.
   */
  idle(): Promise<void> {
    if (this.keys.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying; tasks waiting or running still finish. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failed.clear();
  }

  private enqueue(key: string, task: () => Promise<unknown>): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.waiting.push({ key, task });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.width && this.head < this.waiting.length) {
      const { key, task } = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined; // let the task go once it has run
      // Taken slots are dropped when the queue empties, and now and then under steady load, where it may never empty.
      if (this.head === this.waiting.length || this.head >= 1024) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.running++;
      this.runningKeys.add(key);
      Promise.resolve()
        .then(task)
        .then(
          () => this.succeeded(key),
          (err: unknown) => this.failedWith(key, task, err),
        )
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

  private succeeded(key: string): void {
    this.attempts.delete(key);
    if (this.probe !== key) return;
    // The probe went through: whatever failed them all has passed.
    this.probe = undefined;
    this.delayMs = this.policy.firstDelayMs;
    const retries = [...this.failed];
    this.failed.clear();
    for (const [k, task] of retries) this.enqueue(k, task);
    this.options.onRetried?.(retries.length + 1);
  }

  private failedWith(key: string, task: () => Promise<unknown>, err: unknown): void {
    const attempts = (this.attempts.get(key) ?? 0) + 1;
    const willRetry = !this.closed && this.policy.retryable(err);
    if (willRetry) {
      this.attempts.set(key, attempts);
      // A write while it ran queues it again anyway (see `pump`).
      if (!this.again.has(key)) this.failed.set(key, task);
    } else this.attempts.delete(key);
    if (this.probe === key) {
      this.probe = undefined;
      this.delayMs = Math.min(this.delayMs * 2, this.policy.maxDelayMs);
    }
    this.options.onFailure({ key, err, attempts, willRetry });
    this.settleRetries();
  }

  /** Starts the back-off timer when keys wait for a retry and no probe is out; stops it when none wait. */
  private settleRetries(): void {
    if (this.failed.size === 0) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    if (this.retryTimer !== undefined || this.probe !== undefined || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const first = this.failed.entries().next();
      if (first.done) return;
      const [key, task] = first.value;
      this.failed.delete(key);
      this.probe = key;
      this.enqueue(key, task);
    }, this.delayMs);
    // Retries alone do not keep the process alive.
    this.retryTimer.unref();
  }
}
