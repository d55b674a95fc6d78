import type { Logger } from '../../core/ports/logger.js';
import type { Warehouse } from '../../core/ports/warehouse.js';
import { errorFields } from '../../core/support/json-logger.js';

/**
 * Logs a failure that repeats (every load tick) once per outage: one error line when it starts,
 * one info line when it ends, and the repeats (whatever their reason) only at debug level.
 */
export class OutageLog {
  private since: Date | undefined;
  private reason: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { failing: string; recovered: string },
    private readonly fields: Record<string, unknown> = {},
  ) {}

  /** The latest failure's message while an outage lasts. */
  get current(): string | undefined {
    return this.reason;
  }

  failed(err: unknown): void {
    this.reason = err instanceof Error ? err.message : String(err);
    if (this.since !== undefined) {
      this.logger.debug(this.messages.failing, { ...this.fields, ...errorFields(err) });
      return;
    }
    this.since = new Date();
    this.logger.error(this.messages.failing, { ...this.fields, ...errorFields(err), since: this.since.toISOString() });
  }

  succeeded(): void {
    if (this.since === undefined) return;
    this.logger.info(this.messages.recovered, { ...this.fields, down_s: Math.round((Date.now() - this.since.getTime()) / 1000) });
    this.since = undefined;
    this.reason = undefined;
  }
}

/** How long a reachability probe may take before the warehouse counts as unreachable. */
const probeTimeoutMs = 5_000;

/**
 * Whether the warehouse answers (`SELECT 1`). `DATABASE_URL` naming a missing database, a wrong
 * port or a refused role is only found when a query runs; checked at start and before each load,
 * so `/api/ready` can say so and a down warehouse costs one log line per outage, not one per tick.
 */
export class WarehouseWatch {
  private probing: Promise<string | undefined> | undefined;
  private readonly outages: OutageLog;

  constructor(
    private readonly warehouse: Warehouse,
    logger: Logger,
  ) {
    this.outages = new OutageLog(
      logger,
      { failing: 'warehouse unreachable: collecting goes on, loads wait until it answers', recovered: 'warehouse reachable again' },
      { warehouse: warehouse.description },
    );
  }

  /** Why the warehouse was unreachable at the last probe; undefined when it answered. */
  get problem(): string | undefined {
    return this.outages.current;
  }

  /** Probes now (concurrent callers share one probe); resolves to the problem, or undefined when it answers. */
  check(): Promise<string | undefined> {
    return (this.probing ??= this.probe().finally(() => (this.probing = undefined)));
  }

  private async probe(): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${probeTimeoutMs / 1000} s`)), probeTimeoutMs);
    });
    try {
      await Promise.race([this.warehouse.query('SELECT 1'), timeout]);
      this.outages.succeeded();
      return undefined;
    } catch (err) {
      this.outages.failed(err);
      return this.outages.current;
    } finally {
      clearTimeout(timer);
    }
  }
}
