import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { parseBacklog } from '../../core/parser/parse-backlog.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { readConfig } from '../../core/config.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';

describe('parseBacklog', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('counts the inputs with no summary per prefix, with the oldest key and its age, and leaves parsed ones out', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-backlog-'));
    const store = new FsBlobStore(dir);
    const ruleSets = await loadRuleSets([repoPath('docs/rules/api-nginx.yml')], readConfig({}).parser);
    const prefixes = ruleSets.map((s) => s.prefix);
    const now = new Date('2026-11-25T12:00:00Z');
    const at = async (key: string, body: Buffer, time: string) => {
      await store.put(key, body);
      await utimes(join(dir, key), new Date(time), new Date(time));
    };
    const raw = gzipSync(fixtureBytes('collections/ios-two-events.json'));
    await at('raw/events/2026/11/25/10/a.ndjson.gz', raw, '2026-11-25T10:00:00Z');
    await at('raw/events/2026/11/25/11/b.ndjson.gz', raw, '2026-11-25T11:59:30Z');
    await at('logs/nginx/api-1.log', fixtureBytes('logs/api-nginx.log'), '2026-11-25T11:00:00Z');
    await at('logs/nginx/api-2.log', fixtureBytes('logs/api-nginx.log'), '2026-11-25T11:30:00Z');

    expect(await parseBacklog(store, prefixes, now)).toEqual({
      count: 4,
      oldest_age_s: 7200,
      oldest_key: 'raw/events/2026/11/25/10/a.ndjson.gz',
      prefixes: [
        { prefix: 'logs/nginx/', count: 2, oldest_age_s: 3600, oldest_key: 'logs/nginx/api-1.log' },
        { prefix: 'raw/events/', count: 2, oldest_age_s: 7200, oldest_key: 'raw/events/2026/11/25/10/a.ndjson.gz' },
      ],
    });

    await parseObject({ store, logger: silentLogger, ruleSets }, { key: 'logs/nginx/api-1.log' });
    await parseObject({ store, logger: silentLogger, ruleSets }, { key: 'logs/nginx/api-2.log' });
    const backlog = await parseBacklog(store, prefixes, now);
    expect(backlog.prefixes).toEqual([
      { prefix: 'logs/nginx/', count: 0, oldest_age_s: null, oldest_key: null },
      { prefix: 'raw/events/', count: 2, oldest_age_s: 7200, oldest_key: 'raw/events/2026/11/25/10/a.ndjson.gz' },
    ]);
    // A key under nested prefixes counts once, under the longer one that parses it.
    const nested = await parseBacklog(store, ['raw/', 'raw/events/'], now);
    expect(nested.prefixes.map((p) => [p.prefix, p.count])).toEqual([['raw/', 0], ['raw/events/', 2]]);
    expect(nested.count).toBe(2);
  });
});
