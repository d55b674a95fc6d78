import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import type { BlobStore } from '../../core/ports/blob-store.js';
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
  it('writes the same outputs whatever chunks the store hands the bytes over in, and however fast they are read', async () => {
    // A network store's small chunks, read slowly, had zlib give back less of a damaged object
    // than the filesystem store's 64 KiB chunks: a retry could then write different outputs.
    // Real lines with varied ids, sizes and addresses, so that the gzip passes 1 MiB and is streamed.
    const lines = fixtureBytes('logs/api-nginx.log').toString('utf8').trimEnd().split('\n');
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const varied = Array.from({ length: 4500 }, () =>
      lines.map((line) =>
        line
          .replace(/tasks\/\d+/, `tasks/${next()}`)
          .replace(/" (\d{3}) (\d+) "/, (_, status: string) => `" ${status} ${next() % 100_000} "`)
          .replace(/^(\d+\.\d+\.\d+)\.\d+/, (_, net: string) => `${net}.${next() % 250}`),
      ),
    ).flat();
    const gz = gzipSync(`${varied.join('\n')}\n`);
    expect(gz.length).toBeGreaterThan(1024 * 1024);
    const corrupt = Buffer.from(gz);
    for (let i = 700_000; i < 700_040; i++) corrupt[i]! ^= 0x55;
    const store = options.store;
    const trickling: BlobStore = Object.assign(Object.create(store) as BlobStore, {
      async get(key: string) {
        const bytes = await readObject(store, key);
        return Readable.from(
          (async function* () {
            for (let i = 0; i < bytes.length; i += 1000) {
              if (i % 50_000 === 0) await new Promise((r) => setTimeout(r, 1));
              yield bytes.subarray(i, i + 1000);
            }
          })(),
        );
      },
    });
    for (const [name, bytes] of [['cut', gz.subarray(0, gz.length - 300)], ['corrupt', corrupt]] as const) {
      const key = `logs/nginx/2026/11/23/${name}.log.gz`;
      await store.put(key, bytes);
      const direct = await parseObject(options, { key });
      const directOutputs = await Promise.all(direct.outputs.map((k) => readObject(store, k)));
      expect(direct.rejected).toBeGreaterThan(0);
      const trickled = await parseObject({ ...options, store: trickling }, { key });
      expect(trickled).toEqual(direct);
      const trickledOutputs = await Promise.all(trickled.outputs.map((k) => readObject(store, k)));
      // Compared as booleans: a diff of megabytes helps no one (and takes vitest seconds).
      expect(trickledOutputs.map((b, i) => b.equals(directOutputs[i]!))).toEqual(directOutputs.map(() => true));
    }
  });
});
