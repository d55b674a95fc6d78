import type { BlobBody, BlobStore } from '../ports/blob-store.js';
import { GzipSpool } from './gzip-spool.js';
import { parsedMetadata } from './output-keys.js';
import type { ParseSummary } from './parse-summary.js';
import type { RulePlan } from './rules/rule-plan.js';

/** One finished output, ready to publish. */
export interface FinishedOutput {
  key: string;
  body: BlobBody;
  rows: number;
}

/** Where each output goes: a key per table and one for the rejected lines. */
export interface OutputNames {
  table(table: string): string;
  rejected: string;
}

/**
 * The gzip'd CSV outputs of one parse — one per table plus the rejected lines — spooled until
 * published, so their row counts are known before each object is put with its metadata in one
 * atomic write. Memory stays flat: a spool moves to a temporary file once it outgrows memory.
 */
export class TableOutputs {
  private readonly spools = new Map<string, GzipSpool>();

  constructor(
    private readonly plan: RulePlan,
    private readonly spoolDir?: string,
  ) {}

  /** Appends rows taken from a `LineRouter` (per table in plan order) and counts them into `summary`. */
  async write(taken: { rows: string[][]; rejected: string[] }, summary: ParseSummary): Promise<void> {
    for (const table of this.plan.tables) {
      const rows = taken.rows[table.index]!;
      if (rows.length === 0) continue;
      const name = table.table.definition.name;
      summary.rows[name]! += rows.length;
      const count = rows.length;
      // An empty last element gives the final LF in the same flat string; appending it after
      // the join would make a second string to flatten.
      rows.push('');
      await this.spool(name).write(rows.join('\n'), count);
    }
    if (taken.rejected.length > 0) await this.spool('').write(taken.rejected.join(''), taken.rejected.length);
  }

  /** The non-empty outputs, named by `names`, in table order then the rejected lines. */
  async finish(names: OutputNames): Promise<FinishedOutput[]> {
    const finished: FinishedOutput[] = [];
    for (const table of this.plan.tables) {
      const spool = this.spools.get(table.table.definition.name);
      if (spool && spool.count > 0) finished.push({ key: names.table(table.table.definition.name), body: (await spool.finish()).body, rows: spool.count });
    }
    const rejected = this.spools.get('');
    if (rejected && rejected.count > 0) finished.push({ key: names.rejected, body: (await rejected.finish()).body, rows: rejected.count });
    return finished;
  }

  /** Releases spool files; safe after `finish` and after a failure. */
  async dispose(): Promise<void> {
    await Promise.all([...this.spools.values()].map((s) => s.dispose()));
  }

  private spool(name: string): GzipSpool {
    let spool = this.spools.get(name);
    if (!spool) this.spools.set(name, (spool = new GzipSpool(this.spoolDir)));
    return spool;
  }
}

/**
 * Puts the outputs, each with its row count and source in metadata, then the summary last: a
 * summary marks its inputs as parsed, so it exists only once everything it names does.
 */
export async function publishOutputs(
  store: BlobStore,
  outputs: readonly FinishedOutput[],
  source: Record<string, string>,
  summary: { key: string; body: string; rows?: number },
): Promise<string[]> {
  const keys: string[] = [];
  for (const output of outputs) {
    await store.put(output.key, output.body, { ...source, [parsedMetadata.rows]: String(output.rows) });
    keys.push(output.key);
  }
  await store.put(summary.key, Buffer.from(summary.body), summary.rows === undefined ? {} : { [parsedMetadata.rows]: String(summary.rows) });
  return keys;
}
