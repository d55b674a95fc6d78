import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgWarehouse } from '../../core/adapters/pg-warehouse.js';
import { PostgresDialect } from '../../core/loader/dialects/postgres.js';
import { eventTable } from '../../core/model/event-table.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../support/postgres.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** Rows of `events` for `count` sessions of 10 events each, made in SQL. */
function eventRows(schema: string, from: number, count: number, target: string): string {
  return `INSERT INTO ${target} (device_id, client_id, session, nr, env, system_version, product_version, at, event, parameters, received_at, at_corrected, source_key, fingerprint)
SELECT 'device-' || s, 'client', md5('session' || s), n, 'PRODUCTION', '1', '1', '2026-11-25 10:00:00', 'Event', '{}', '2026-11-25 10:00:01', '2026-11-25 10:00:00', 'raw/x', md5(s || '/' || n)
FROM generate_series(${from}, ${from + count - 1}) s, generate_series(1, 10) n`;
}

describe('the PostgreSQL merge of a load batch', () => {
  const schema = uniqueSchema('merge_plan');
  const dialect = new PostgresDialect(schema);
  let warehouse: PgWarehouse;
  beforeAll(async () => {
    warehouse = new PgWarehouse(testDatabaseUrl());
    await dialect.ensureSchema(warehouse, [eventTable]);
    await warehouse.query(eventRows(schema, 0, 5000, dialect.target(eventTable)));
    await warehouse.query(`ANALYZE ${dialect.target(eventTable)}`);
  });
  afterAll(async () => {
    await warehouse.close();
    await dropSchema(schema);
  });

  // A plan that reads the whole target made every load cost as much as the table held.
  it.each([
    ['counting collisions (events)', () => dialect.mergeCounting(eventTable)],
    ['de-duplicating only', () => dialect.mergeStaging(eventTable)],
  ])('looks up each staged row in the target by its key, %s, instead of reading the whole target', async (_name, merge) => {
    const scans = await warehouse.transaction(async (tx) => {
      await tx.query(dialect.sortMemory());
      await tx.query(dialect.createStaging(eventTable));
      await tx.query(eventRows(schema, 4900, 500, dialect.staging(eventTable)));
      const [row] = await tx.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${merge()}`);
      return nodes(row!['QUERY PLAN'][0]!.Plan).filter((n) => n['Relation Name'] === 'events' && n['Node Type'] !== 'ModifyTable');
    });
    expect(scans.length).toBeGreaterThan(0);
    for (const scan of scans) expect(scan, JSON.stringify(scan)).toHaveProperty('Index Cond');
  });
});
