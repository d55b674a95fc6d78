import type { BlobStore } from '../ports/blob-store.js';
import { findUnparsed } from './find-unparsed.js';

/** Inputs under one prefix whose current version has no parse summary. */
export interface PrefixBacklog {
  prefix: string;
  count: number;
  /** Age of the oldest such input (by last-modified time) in whole seconds; null when none. */
  oldest_age_s: number | null;
  oldest_key: string | null;
}

/** The parse backlog: inputs stored but not (yet) parsed, per input prefix and in total. */
export interface ParseBacklog {
  prefixes: PrefixBacklog[];
  count: number;
  oldest_age_s: number | null;
  oldest_key: string | null;
}

/**
 * Counts the inputs under `prefixes` (the collector's `raw/events/` and the rules files'
 * prefixes, e.g. `ruleSets.map((s) => s.prefix)`) that have no parse summary, with the oldest
 * one's key and age at `now`. A key under two of the prefixes counts under the longer one, the
 * one whose rules parse it. Lists every input under the prefixes with one `head` each: made for
 * the local store (`ferry status`), not for a cloud timer.
 */
export async function parseBacklog(store: BlobStore, prefixes: readonly string[], now: Date): Promise<ParseBacklog> {
  const unique = [...new Set(prefixes)].sort();
  const byPrefix = new Map(unique.map((prefix) => [prefix, { prefix, count: 0, oldest: undefined as { key: string; at: number } | undefined }]));
  // Listing a prefix that another one holds would list its keys twice.
  const roots = unique.filter((p) => !unique.some((other) => other !== p && p.startsWith(other)));
  for (const root of roots) {
    for await (const info of findUnparsed(store, root)) {
      const owner = unique.filter((p) => info.key.startsWith(p)).reduce((a, b) => (b.length > a.length ? b : a));
      const entry = byPrefix.get(owner)!;
      entry.count++;
      const at = info.lastModified.getTime();
      if (entry.oldest === undefined || at < entry.oldest.at) entry.oldest = { key: info.key, at };
    }
  }
  const ageS = (at: number) => Math.max(0, Math.floor((now.getTime() - at) / 1000));
  const entries = [...byPrefix.values()];
  const oldest = entries.map((e) => e.oldest).filter((o) => o !== undefined).sort((a, b) => a.at - b.at)[0];
  return {
    prefixes: entries.map((e) => ({ prefix: e.prefix, count: e.count, oldest_age_s: e.oldest ? ageS(e.oldest.at) : null, oldest_key: e.oldest?.key ?? null })),
    count: entries.reduce((sum, e) => sum + e.count, 0),
    oldest_age_s: oldest ? ageS(oldest.at) : null,
    oldest_key: oldest?.key ?? null,
  };
}
