import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { rawObjectKey } from '../../core/model/raw-record.js';
import { lostSweepWindowMs, maxCatchUpMs, parseLostInputs } from '../../core/parser/parse-lost-inputs.js';
import { storageLayout } from '../../core/storage-layout.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { timeSortableIds } from '../../core/support/time-sortable-id.js';
import { fixtureJson } from '../support/fixtures.js';
import { readObject } from '../support/streams.js';

const hourMs = 3_600_000;

/** A raw object the collector stored at `at` whose blob-created notification never came. */
function strandRawObject(store: MemoryBlobStore, at: Date): string {
  const line = JSON.stringify({ received_at: at.toISOString(), sent_at: null, ip: '198.51.100.7', collection: fixtureJson('collections/ios-two-events.json') });
  const body = gzipSync(`${line}\n`);
  const id = timeSortableIds.next(at);
  const key = rawObjectKey(at, id);
  store.seed({ key, size: body.length, etag: id, lastModified: at, metadata: {} }, body);
  return key;
}

async function sweepMark(store: MemoryBlobStore): Promise<number> {
  return Date.parse((JSON.parse((await readObject(store, storageLayout.sweepMark)).toString()) as { examined_until: string }).examined_until);
}

describe('the cloud timer\'s sweep after ticks that did not run', () => {
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms);

  it('parses a raw object that lost its notification while the timer was down for hours, from where the last sweep ended', async () => {
    const store = new MemoryBlobStore();
    const options = { store, logger: silentLogger };
    // The last tick before the outage ran four hours ago; the object arrived during the outage.
    expect(await parseLostInputs(options, ago(4 * hourMs))).toEqual({ parsed: [], more: false });
    const stranded = strandRawObject(store, ago(3 * hourMs));
    expect(await parseLostInputs(options, now)).toEqual({ parsed: [stranded], more: false });
    expect(await parseLostInputs(options, now)).toEqual({ parsed: [], more: false });
    expect(await sweepMark(store)).toBe(now.getTime() - 15 * 60_000);
  });

  it('looks only at its window on a first tick (no mark yet), and no further back than the catch-up bound', async () => {
    const store = new MemoryBlobStore();
    const options = { store, logger: silentLogger };
    strandRawObject(store, ago(3 * hourMs));
    expect(await parseLostInputs(options, now)).toEqual({ parsed: [], more: false });
    // A mark from before the bound: only the last maxCatchUpMs are listed again.
    const store2 = new MemoryBlobStore();
    await parseLostInputs({ store: store2, logger: silentLogger }, ago(maxCatchUpMs + 2 * hourMs));
    strandRawObject(store2, ago(maxCatchUpMs + hourMs));
    const recent = strandRawObject(store2, ago(2 * lostSweepWindowMs));
    expect(await parseLostInputs({ store: store2, logger: silentLogger }, now)).toEqual({ parsed: [recent], more: false });
  });

  it('keeps the hours it finished when its time budget runs out, and goes on from there at the next tick', async () => {
    const store = new MemoryBlobStore();
    const options = { store, logger: silentLogger };
    await parseLostInputs(options, ago(6 * hourMs));
    const first = strandRawObject(store, ago(5 * hourMs));
    const second = strandRawObject(store, ago(3 * hourMs));
    const markBefore = await sweepMark(store);
    // No time at all: the empty hours before the first object count as examined, its hour does not.
    expect(await parseLostInputs(options, now, 0)).toEqual({ parsed: [], more: true });
    const markAfter = await sweepMark(store);
    expect(markAfter).toBeGreaterThan(markBefore);
    expect(markAfter).toBeLessThanOrEqual(now.getTime() - 5 * hourMs);
    expect(markAfter).toBeGreaterThan(now.getTime() - 5 * hourMs - hourMs);
    expect((await parseLostInputs(options, now)).parsed.sort()).toEqual([first, second].sort());
  });
});
