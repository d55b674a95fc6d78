import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { readConfig } from '../../core/config.js';
import { lostNotificationAfterMs, parseLostInputs } from '../../core/parser/parse-lost-inputs.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import type { ListOptions } from '../../core/ports/blob-store.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { LocalParser } from '../../functions/local/local-parser.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';

const dayMs = 86_400_000;
const datePath = (at: Date) => at.toISOString().slice(0, 10).replaceAll('-', '/');

/** A memory store that records what it was asked to list and how many keys it answered. */
class ListingStore extends MemoryBlobStore {
  readonly prefixes: string[] = [];
  listedKeys = 0;
  override async *list(prefix: string, options?: ListOptions) {
    this.prefixes.push(prefix);
    for await (const info of super.list(prefix, options)) {
      this.listedKeys++;
      yield info;
    }
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-log-sweep-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** docs/rules/api-nginx.yml, with `dated_keys` when given. */
async function nginxRules(datedKeys?: string) {
  const text = await readFile(repoPath('docs/rules/api-nginx.yml'), 'utf8');
  const file = join(dir, 'api-nginx.yml');
  await writeFile(file, datedKeys ? text.replace('prefix: logs/nginx/\n', `prefix: logs/nginx/\ndated_keys: "${datedKeys}"\n`) : text);
  return loadRuleSets([file], { clockSkewThresholdS: 300 });
}

describe('the sweep for log files whose notification was lost', () => {
  /** A year of parsed-long-ago daily logs, plus one written now under today's date and one stray key. */
  async function storeWithHistory(): Promise<{ store: ListingStore; today: string; stray: string }> {
    const store = new ListingStore();
    const log = fixtureBytes('logs/api-nginx.log');
    for (let d = 2; d <= 400; d++) {
      const at = new Date(Date.now() - d * dayMs);
      store.seed({ key: `logs/nginx/${datePath(at)}/web-1.log`, size: log.length, etag: `e${d}`, lastModified: at, metadata: {} }, log);
    }
    const today = `logs/nginx/${datePath(new Date())}/web-2.log`;
    const stray = 'logs/nginx/stray.log';
    await store.put(today, log);
    await store.put(stray, log);
    return { store, today, stray };
  }

  it('lists only the recent dates of a prefix whose keys start with their date, whatever its history', async () => {
    const { store, today } = await storeWithHistory();
    const options = { store, logger: silentLogger, ruleSets: await nginxRules('{yyyy}/{mm}/{dd}/') };
    const later = new Date(Date.now() + lostNotificationAfterMs + 60_000);
    expect(await parseLostInputs(options, later)).toEqual({ parsed: [today], more: false });
    const logListings = store.prefixes.filter((p) => p.startsWith('logs/'));
    expect(logListings).toContain(today.slice(0, today.lastIndexOf('/') + 1));
    expect(logListings).toHaveLength(3); // yesterday, today and tomorrow (a writer's clock ahead)
    expect(store.listedKeys).toBeLessThan(20);
  });

  it('lists a prefix without dated_keys whole, finding a key of any shape', async () => {
    const { store, today, stray } = await storeWithHistory();
    const options = { store, logger: silentLogger, ruleSets: await nginxRules() };
    const later = new Date(Date.now() + lostNotificationAfterMs + 60_000);
    expect((await parseLostInputs(options, later)).parsed.sort()).toEqual([today, stray].sort());
    expect(store.prefixes).toContain('logs/nginx/');
    expect(store.listedKeys).toBeGreaterThan(400);
  });
});

describe('the local runner\'s scan for dropped log files', () => {
  it('finds a file dropped under a recent date at the next tick, and one under an older date at the hourly whole scan', async () => {
    const ruleSets = await nginxRules('{yyyy}/{mm}/{dd}/');
    const root = join(dir, 'store');
    const parser = new LocalParser({ store: new FsBlobStore(root), ruleSets, config: readConfig({ FERRY_DATA_DIR: dir }), logger: silentLogger });
    // Another process's store: its puts send this parser no notification, as with `ferry put`.
    const other = new FsBlobStore(root);
    try {
      const started = new Date();
      expect(await parser.scanAll(started)).toBe(0);
      await other.put(`logs/nginx/${datePath(started)}/web-1.log`, fixtureBytes('logs/api-nginx.log'));
      await other.put('logs/nginx/2025/01/01/web-1.log', fixtureBytes('logs/api-nginx.log'));
      expect(await parser.scanDropped(new Date(started.getTime() + 10_000))).toBe(1);
      await parser.idle();
      expect(await parser.scanDropped(new Date(started.getTime() + 20_000))).toBe(0);
      expect(await parser.scanDropped(new Date(started.getTime() + LocalParser.wholeScanEveryMs))).toBe(1);
      await parser.idle();
      expect(await parser.scanDropped(new Date(started.getTime() + 2 * LocalParser.wholeScanEveryMs))).toBe(0);
    } finally {
      await parser.finish();
      await parser.close();
    }
  });
});
