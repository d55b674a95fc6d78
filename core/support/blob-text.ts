import type { BlobStore } from '../ports/blob-store.js';

/** An object's bytes as UTF-8 text: for the small JSON and CSV objects Ferry reads whole. */
export async function readBlobText(store: BlobStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
