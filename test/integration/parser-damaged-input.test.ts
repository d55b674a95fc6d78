import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { parseObject, type ParseOptions } from '../../core/parser/parse-object.js';
import { readConfig } from '../../core/config.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureBytes, repoPath } from '../support/fixtures.js';
import { readObject } from '../support/streams.js';

describe('parseObject on a damaged gzip input', () => {
  let dir: string;
  let options: ParseOptions;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-damaged-'));
    options = { store: new FsBlobStore(dir), logger: silentLogger, ruleSets: await loadRuleSets([repoPath('docs/rules/api-nginx.yml')], readConfig({}).parser) };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps the whole lines before the damage, rejects the cut line with the reason, balances, and is deterministic', async () => {
    const log = Buffer.concat(Array.from({ length: 200 }, () => fixtureBytes('logs/api-nginx.log')));
    const gz = gzipSync(log);
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    // What any gunzip can read of the cut object: whole lines up to the last LF, then a fragment.
    const readable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
    const wholeLines = readable.toString('utf8').split('\n').length - 1;
    const fragment = readable.subarray(readable.lastIndexOf(10) + 1).toString('utf8');
    expect(wholeLines).toBeGreaterThan(100);
    expect(fragment.length).toBeGreaterThan(0);

    const key = 'logs/nginx/2026/11/23/cut.log.gz';
    await options.store.put(key, cut);
    const summary = await parseObject(options, { key });
    expect(summary.lines).toBe(wholeLines + 1);
    expect(summary.accepted + summary.ignored + summary.rejected).toBe(summary.lines);

    const rejectedKey = summary.outputs.find((k) => k.startsWith('rejected/'))!;
    const rejected = gunzipSync(await readObject(options.store, rejectedKey)).toString('utf8');
    const last = rejected.trimEnd().split('\n').at(-1)!;
    expect(last).toContain(`,${wholeLines + 1},gzip data unreadable after ${readable.lastIndexOf(10) + 1} decompressed bytes (unexpected end of file); the rest of the object is lost,`);
    expect(last).toContain(fragment.replaceAll('"', '""'));

    // Same bytes, same outputs: a retried trigger rewrites them rather than failing again.
    const outputs = await Promise.all(summary.outputs.map((k) => readObject(options.store, k)));
    const again = await parseObject(options, { key });
    expect(again).toEqual(summary);
    expect(await Promise.all(again.outputs.map((k) => readObject(options.store, k)))).toEqual(outputs);
  });

  it('parses the same rows from the readable part as from those lines stored plain', async () => {
    const gz = gzipSync(Buffer.concat(Array.from({ length: 50 }, () => fixtureBytes('logs/api-nginx.log'))));
    const cut = gz.subarray(0, gz.length - 40);
    const readable = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
    await options.store.put('logs/nginx/a/cut.log.gz', cut);
    await options.store.put('logs/nginx/b/whole-lines.log', readable.subarray(0, readable.lastIndexOf(10) + 1));
    const damaged = await parseObject(options, { key: 'logs/nginx/a/cut.log.gz' });
    const plain = await parseObject(options, { key: 'logs/nginx/b/whole-lines.log' });
    expect(damaged.rows).toEqual(plain.rows);
    expect(damaged.rejected).toBe(plain.rejected + 1);
    for (const table of Object.keys(plain.rows)) {
      const of = (s: typeof plain) => s.outputs.find((k) => k.startsWith(`parsed/${table}/`));
      if (!of(plain)) continue;
      const rows = async (s: typeof plain) => gunzipSync(await readObject(options.store, of(s)!)).toString('utf8').replaceAll('logs/nginx/a/cut.log.gz', 'K').replaceAll('logs/nginx/b/whole-lines.log', 'K');
      expect(await rows(damaged)).toBe(await rows(plain));
    }
  });
});
