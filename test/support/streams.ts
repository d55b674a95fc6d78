import type { Readable } from 'node:stream';
import type { BlobStore } from '../../core/ports/blob-store.js';

/** Reads a whole stream into one buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads a whole object from a store. */
export async function readObject(store: BlobStore, key: string): Promise<Buffer> {
  return readAll(await store.get(key));
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Every key under a prefix, in listing order. */
export async function listKeys(store: BlobStore, prefix: string): Promise<string[]> {
  return (await collect(store.list(prefix))).map((i) => i.key);
}
