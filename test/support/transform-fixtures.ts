import { gzipSync } from 'node:zlib';
import type { FsBlobStore } from '../../core/adapters/fs-blob-store.js';
import { runLoad, type LoadResult } from '../../core/loader/load-run.js';
import { rawObjectKey } from '../../core/model/raw-record.js';
import { parseObject } from '../../core/parser/parse-object.js';
import { loadRuleSets } from '../../core/parser/rules/load-rules.js';
import { outputTables } from '../../core/parser/rules/rule-set.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { silentLogger } from '../../core/support/json-logger.js';
import { fixtureBytes, fixtureJson, repoPath } from './fixtures.js';

type Collection = { device_id: string; payloads: { at: number | string; nr: number }[] } & Record<string, unknown>;

/**
 * Stores one collector batch as the collector would (a raw object under its receipt hour): the
 * fixture collection with every payload moved to `eventDay` (its times kept within the day),
 * as another device and session so each batch adds users.
 */
export async function putCollection(store: FsBlobStore, fixture: string, opts: { receivedAt: Date; eventDay: string; device: string; id: string }): Promise<string> {
  const collection = fixtureJson<Collection>(`collections/${fixture}.json`);
  const dayStart = Date.parse(`${opts.eventDay}T00:00:00Z`) / 1000;
  const moved = {
    ...collection,
    device_id: opts.device,
    session: `${opts.device}-${opts.id}`.slice(0, 64),
    payloads: collection.payloads.map((p) => ({ ...p, at: dayStart + 36_000 + (Number(p.at) % 600) })),
  };
  const line = JSON.stringify({ received_at: opts.receivedAt.toISOString(), sent_at: null, ip: '198.51.100.7', collection: moved });
  const key = rawObjectKey(opts.receivedAt, opts.id);
  await store.put(key, gzipSync(`${line}\n`));
  return key;
}

/** Stores the nginx fixture log as a shipper would. */
export async function putNginxLog(store: FsBlobStore, key: string): Promise<void> {
  await store.put(key, gzipSync(fixtureBytes('logs/api-nginx.log')));
}

/** The rules the example models read: the built-in events plus the nginx API log. */
export async function exampleRules() {
  const ruleSets = await loadRuleSets([repoPath('docs/rules/api-nginx.yml')], { clockSkewThresholdS: 300 });
  return { ruleSets, tables: outputTables(ruleSets) };
}

/** Parses the given inputs, then runs one load of everything: the pipeline's own path. */
export async function parseAndLoad(store: FsBlobStore, warehouse: Warehouse, schema: string, keys: readonly string[], runId: string): Promise<LoadResult> {
  const { ruleSets, tables } = await exampleRules();
  for (const key of keys) await parseObject({ store, logger: silentLogger, ruleSets }, { key });
  return runLoad({ store, warehouse, logger: silentLogger, tables, schema, runId });
}
