import { replayMirror } from './collector/mirrored-store.js';
import type { LoadDialect } from './loader/load-dialect.js';
import { runLoad, type LoadResult } from './loader/load-run.js';
import { lookbackDates } from './loader/load-window.js';
import type { TableDefinition } from './model/table-definition.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Logger } from './ports/logger.js';
import type { Warehouse } from './ports/warehouse.js';

/** What a sweep for inputs whose notification was lost found. */
export interface SweepResult {
  /** Inputs found unparsed. */
  found: number;
  /** Resolves once they are parsed, where that happens elsewhere; absent when the sweep parsed them itself. */
  settled?: Promise<unknown>;
}

/** What one load tick needs from its host. */
export interface LoadTickOptions {
  store: BlobStore;
  warehouse(): Warehouse;
  logger: Logger;
  tables: readonly TableDefinition[];
  schema: string;
  dialect: LoadDialect;
  /** Days of date partitions a tick lists (0: every partition). */
  lookbackDays: number;
  /** How far back of the tick a tick lists by arrival, in each partition (`FERRY_LOAD_OVERLAP_S`). */
  overlapMs: number;
  /** A second store the collector mirrors to: its refused puts are replayed first. */
  mirror?: BlobStore;
  /**
   * Finds the inputs whose notification was lost and parses them (the clouds, inline) or queues
   * them (the local runner, whose parse thread reports through `settled`).
   */
  sweep(now: Date): Promise<SweepResult>;
}

/** A tick lists its partitions whole at least this often, so a file parsed late is loaded within it. */
const wholeEveryMs = 60 * 60_000;

/**
 * The load tick every host runs on its timer — the local runner every `FERRY_LOAD_INTERVAL_S`,
 * Lambda on its EventBridge schedule, Azure on its timer: mirror puts refused since the last
 * tick are replayed, inputs whose notification was lost are swept up, then the parsed files of
 * the look-back window are loaded.
 *
 * A tick costs what arrived since the last one, not the history: parsed files are named by the
 * time their input arrived, so in each partition it lists only names from `overlapMs` before
 * the tick on (`startAfter`); the manifest, checked under the lock, keeps anything seen twice
 * from loading twice. A file written later than that (a parse retried for hours) is found by a
 * whole listing of the partitions, which a tick makes when its host starts, after a sweep found
 * something (once those parses settled), and at least hourly; `ferry status` and
 * `ferry load --from/--to` list whole partitions too.
 */
export class LoadTick {
  private wholeDue = true;
  private lastWhole = 0;

  constructor(private readonly options: LoadTickOptions) {}

  /** One tick at `now`. A failed table is in the result, not thrown. */
  async run(runId: string, now: Date): Promise<LoadResult> {
    const { options } = this;
    // A mirror still down waits for the next tick.
    if (options.mirror) await replayMirror(options.store, options.mirror, options.logger);
    const swept = await options.sweep(now);
    if (swept.found > 0 && swept.settled === undefined) this.wholeDue = true;
    else if (swept.found > 0) void swept.settled!.then(() => (this.wholeDue = true), () => (this.wholeDue = true));
    const whole = this.wholeDue || now.getTime() - this.lastWhole >= wholeEveryMs;
    const result = await runLoad({
      store: options.store,
      warehouse: options.warehouse(),
      logger: options.logger,
      tables: options.tables,
      schema: options.schema,
      dialect: options.dialect,
      runId,
      ...(options.lookbackDays === 0 ? {} : { dates: lookbackDates(now, options.lookbackDays) }),
      ...(whole ? {} : { since: new Date(now.getTime() - options.overlapMs) }),
    });
    if (whole && result.tables.every((t) => !t.error && !t.skipped)) {
      this.wholeDue = false;
      this.lastWhole = now.getTime();
    }
    return result;
  }
}
