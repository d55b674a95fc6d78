import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { PostgresDialect, runsOf } from '../../core/loader/dialects/postgres.js';
import { quoteIdent } from '../../core/loader/sql-text.js';
import { eventTable } from '../../core/model/event-table.js';

describe('PostgresDialect', () => {
  it.each(['Ferry', 'a-b', 'x"; drop table y; --', '1abc', '', 'a'.repeat(64)])('refuses the identifier %j', (name) => {
    expect(() => quoteIdent(name)).toThrow(ConfigError);
    expect(() => new PostgresDialect(name)).toThrow(ConfigError);
  });

  it('names the config key of a bad schema', () => {
    try {
      new PostgresDialect('Bad');
    } catch (err) {
      expect((err as ConfigError).problems[0]!.key).toBe('FERRY_WAREHOUSE_SCHEMA');
    }
    expect.assertions(1);
  });

  it('keys the load and DDL locks by schema so deployments sharing a database do not block each other', () => {
    expect(new PostgresDialect('aws').tryLoadLock()).not.toBe(new PostgresDialect('azure').tryLoadLock());
    expect(new PostgresDialect('aws').ddlLock()).not.toBe(new PostgresDialect('azure').ddlLock());
  });

  it('creates the events table keyed by (session, nr, fingerprint) and only ever adds columns', () => {
    const statements = new PostgresDialect('ferry').createSchema([eventTable]);
    expect(statements.join('\n')).not.toMatch(/DROP/i);
    const create = statements.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS "ferry"."events"'))!;
    expect(create).toContain('PRIMARY KEY ("session", "nr", "fingerprint")');
    expect(create).toContain('"parameters" jsonb NOT NULL');
    expect(statements.filter((s) => s.includes('ADD COLUMN IF NOT EXISTS'))).toHaveLength(eventTable.columns.length);
  });

  it('cuts a batch into runs of files of at most so many rows, in order, a larger file a run of its own', () => {
    const files = [5, 3, 2, 9, 1, 1, 12, 4].map((rows, i) => ({ key: `f${i}`, etag: 'e', expectedRows: rows }));
    expect(runsOf(files, 10).map((run) => run.map((f) => f.key))).toEqual([['f0', 'f1', 'f2'], ['f3', 'f4'], ['f5'], ['f6'], ['f7']]);
    expect(runsOf([], 10)).toEqual([]);
  });
});
