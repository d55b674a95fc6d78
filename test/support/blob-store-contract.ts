import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../core/errors.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
import { collect, readAll } from './streams.js';

/** A store under test and how to dispose of it. */
export interface StoreUnderTest {
  store: BlobStore;
  dispose(): Promise<void>;
}


async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof FerryError ? err.code : `not a FerryError: ${String(err)}`;
  }
}

/** Where an emulator is known to differ from the service it stands in for. */
export interface KnownDeviations {
  /**
   * s3rver lists in its directory-walk order (`11/…` before `11-extra`), where S3 lists in UTF-8
   * byte order. Ferry never depends on list order, so for such an emulator the suite checks that
   * every key is listed exactly once (and `startAfter` still excludes what sorts before it).
   */
  listOrder?: 'walk';
}

/**
 * The BlobStore contract: one suite every adapter (filesystem, S3, Azure Blob) must pass.
 * `create` gives a fresh, empty store (its own folder, bucket or container).
 */
export function describeBlobStoreContract(name: string, create: () => Promise<StoreUnderTest>, deviations: KnownDeviations = {}): void {
  // The order a real service lists in, or, for an emulator that differs, sorted before comparing.
  const listed = (keys: string[]) => (deviations.listOrder === 'walk' ? [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))) : keys);
  describe(`BlobStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: BlobStore;
    beforeAll(async () => {
      subject = await create();
      store = subject.store;
    });
    afterAll(async () => subject?.dispose());

    it('round-trips bytes, size, etag and metadata', async () => {
      const body = Buffer.from('hello, ferry\n');
      const put = await store.put('c/round/trip.txt', body, { ferry_rows: '12', note: 'a b=c' });
      const head = await store.head('c/round/trip.txt');
      expect(head).toMatchObject({ key: 'c/round/trip.txt', size: body.length, metadata: { ferry_rows: '12', note: 'a b=c' } });
      expect(head.etag).toBe(put.etag);
      expect(head.etag).not.toMatch(/"/);
      expect(head.lastModified).toBeInstanceOf(Date);
      expect(await readAll(await store.get('c/round/trip.txt'))).toEqual(body);
    });

    it('accepts a stream body, an empty body and a multi-MiB body', async () => {
      const big = randomBytes(5 * 1024 * 1024 + 123);
      await store.put('c/stream/big.bin', Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
      expect((await store.head('c/stream/big.bin')).size).toBe(big.length);
      expect((await readAll(await store.get('c/stream/big.bin'))).equals(big)).toBe(true);
      await store.put('c/stream/empty', Buffer.alloc(0));
      expect((await store.head('c/stream/empty')).size).toBe(0);
      expect((await readAll(await store.get('c/stream/empty'))).length).toBe(0);
    });

    it('keeps keys with spaces, plus signs, percent signs and unicode exactly', async () => {
      const keys = ['c/odd/a b.txt', 'c/odd/a+b.txt', 'c/odd/100%.txt', 'c/odd/ünï cødé ✓.txt', 'c/odd/日本/データ.csv'];
      for (const key of keys) await store.put(key, Buffer.from(key));
      for (const key of keys) expect((await readAll(await store.get(key))).toString()).toBe(key);
      const odd = (await collect(store.list('c/odd/'))).map((i) => i.key);
      expect(listed(odd)).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    });

    it('throws a typed not-found error for a missing key', async () => {
      expect(await codeOf(store.get('c/missing/nothing.txt'))).toBe('not_found');
      expect(await codeOf(store.head('c/missing/nothing.txt'))).toBe('not_found');
    });

    it('overwrites atomically and changes the etag when the content changes', async () => {
      const first = await store.put('c/over/write.txt', Buffer.from('one'));
      const second = await store.put('c/over/write.txt', Buffer.from('two!'), { v: '2' });
      expect(second.etag).not.toBe(first.etag);
      expect((await readAll(await store.get('c/over/write.txt'))).toString()).toBe('two!');
      expect((await store.head('c/over/write.txt')).metadata).toEqual({ v: '2' });
    });

    it('reads a pinned version, and refuses with a typed error once the key holds another', async () => {
      const first = await store.put('c/pinned/v.txt', Buffer.from('version one'));
      expect((await readAll(await store.get('c/pinned/v.txt', { etag: first.etag }))).toString()).toBe('version one');
      const second = await store.put('c/pinned/v.txt', Buffer.from('version two'));
      let error: unknown;
      try {
        await store.get('c/pinned/v.txt', { etag: first.etag });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(FerryError);
      expect(error).toMatchObject({ code: 'version_changed', context: { key: 'c/pinned/v.txt', etag: first.etag, current: second.etag } });
      expect((await readAll(await store.get('c/pinned/v.txt', { etag: second.etag }))).toString()).toBe('version two');
      expect(await codeOf(store.get('c/pinned/missing.txt', { etag: first.etag }))).toBe('not_found');
    });

    it('leaves no object behind when the body stream fails', async () => {
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(1024, 1));
          this.destroy(new Error('client went away'));
        },
      });
      await expect(store.put('c/atomic/broken.bin', failing)).rejects.toThrow();
      expect(await codeOf(store.head('c/atomic/broken.bin'))).toBe('not_found');
      expect((await collect(store.list('c/atomic/'))).map((i) => i.key)).toEqual([]);
    });

    it('lists in byte order, by prefix (even mid-name), across pages, and resumes after a key', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 23; i++) keys.push(`c/list/2026/11/${String(i).padStart(2, '0')}/obj-${i}.gz`);
      keys.push('c/list/2026/11-extra.gz', 'c/list/2026/11/!first.gz', 'c/list/2026/110.gz');
      for (const key of keys) await store.put(key, Buffer.from('x'));
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(listed((await collect(store.list('c/list/'))).map((i) => i.key))).toEqual(sorted);
      expect(listed((await collect(store.list('c/list/2026/11'))).map((i) => i.key))).toEqual(sorted);
      expect(listed((await collect(store.list('c/list/2026/11/0'))).map((i) => i.key))).toEqual(sorted.filter((k) => k.startsWith('c/list/2026/11/0')));
      const after = sorted[10]!;
      expect(listed((await collect(store.list('c/list/', { startAfter: after }))).map((i) => i.key))).toEqual(sorted.slice(11));
      const infos = await collect(store.list('c/list/2026/11/05/'));
      expect(infos).toHaveLength(1);
      expect(infos[0]).toMatchObject({ key: 'c/list/2026/11/05/obj-5.gz', size: 1 });
      expect(infos[0]!.etag).toBe((await store.head('c/list/2026/11/05/obj-5.gz')).etag);
      expect(await collect(store.list('c/nothing-here/'))).toEqual([]);
    });

    it('deletes, and deleting a missing key is not an error', async () => {
      await store.put('c/del/x.txt', Buffer.from('x'));
      await store.delete('c/del/x.txt');
      expect(await codeOf(store.head('c/del/x.txt'))).toBe('not_found');
      await store.delete('c/del/x.txt');
    });

    it('refuses metadata and keys that would not survive every cloud', async () => {
      expect(await codeOf(store.put('c/meta/bad.txt', Buffer.from('x'), { 'Bad-Name': 'v' }))).toBe('invalid_input');
      expect(await codeOf(store.put('c/meta/bad.txt', Buffer.from('x'), { name: 'ünicode' }))).toBe('invalid_input');
      expect(await codeOf(store.put('/c/meta/abs.txt', Buffer.from('x')))).toBe('invalid_input');
      expect(await codeOf(store.put('c/../escape.txt', Buffer.from('x')))).toBe('invalid_input');
    });
  });
}
