import type { BlobCreated } from '../../core/ports/blob-store.js';
import type { ParseInput } from '../../core/parser/parse-object.js';

/**
 * The stored bytes of objects put in this process, kept from their "created" notification until
 * their parse starts, so the parse need not read them back from the disk (an open, a stat, reads
 * and a close on libuv's pool per raw object). Memory is bounded: once `budgetBytes` are held, a
 * new object is not kept and its parse reads the store as any other. A notification without
 * bytes (a streamed put) drops what was kept for its key, so a parse never takes an older
 * version's bytes for a newer one's.
 */
export class BodiesInHand {
  /** Enough for the parse's backlog after a burst: some 700 of the collector's raw objects of 25 requests. */
  static readonly defaultBudgetBytes = 4 * 1024 * 1024;
  private readonly held = new Map<string, BlobCreated & { body: Uint8Array }>();
  private bytes = 0;

  constructor(private readonly budgetBytes = BodiesInHand.defaultBudgetBytes) {}

  /** Keeps the object's bytes, if it came with them and they fit in the budget. */
  offer(event: BlobCreated): void {
    this.drop(event.key);
    const { body } = event;
    if (body === undefined || this.bytes + body.byteLength > this.budgetBytes) return;
    this.held.set(event.key, { ...event, body });
    this.bytes += body.byteLength;
  }

  /** The parse input of `key`: with the bytes of the version last created, when they were kept (and then let go). */
  take(key: string): ParseInput {
    const event = this.held.get(key);
    if (!event) return { key };
    this.drop(key);
    return { key, etag: event.etag, size: event.size, body: event.body };
  }

  /** Bytes held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.held.clear();
    this.bytes = 0;
  }

  private drop(key: string): void {
    const event = this.held.get(key);
    if (!event) return;
    this.held.delete(key);
    this.bytes -= event.body.byteLength;
  }
}
