import type { ScheduledEvent } from 'aws-lambda';
import { runLoad, type LoadResult } from '../../core/loader/load-run.js';
import { lookbackDates } from '../../core/loader/load-window.js';
import { awsHost } from './aws-host.js';

/** EventBridge schedule → one load run over the look-back window. A failed table fails the invocation. */
export async function handler(event: ScheduledEvent): Promise<LoadResult> {
  const host = await awsHost();
  const days = host.config.loadLookbackDays;
  const result = await runLoad({
    store: host.store,
    warehouse: host.warehouse(),
    logger: host.logger,
    tables: host.tables,
    schema: host.config.warehouseSchema,
    runId: `aws-${event.id}`,
    ...(days === 0 ? {} : { dates: lookbackDates(new Date(event.time), days) }),
  });
  const failed = result.tables.filter((t) => t.error);
  if (failed.length > 0) throw new Error(`load failed for ${failed.map((t) => `${t.table}: ${t.error!.message}`).join('; ')}`);
  return result;
}
