import type { InvocationContext, Timer } from '@azure/functions';
import { runLoad, type LoadResult } from '../../core/loader/load-run.js';
import { lookbackDates } from '../../core/loader/load-window.js';
import { azureHost } from './azure-host.js';

/** Timer → one load run over the look-back window. A failed table fails the invocation. */
export async function loadHandler(_timer: Timer, context: InvocationContext): Promise<LoadResult> {
  const host = await azureHost();
  const days = host.config.loadLookbackDays;
  const result = await runLoad({
    store: host.store,
    warehouse: host.warehouse(),
    logger: host.logger,
    tables: host.tables,
    schema: host.config.warehouseSchema,
    runId: `azure-${context.invocationId}`,
    ...(days === 0 ? {} : { dates: lookbackDates(new Date(), days) }),
  });
  const failed = result.tables.filter((t) => t.error);
  if (failed.length > 0) throw new Error(`load failed for ${failed.map((t) => `${t.table}: ${t.error!.message}`).join('; ')}`);
  return result;
}
