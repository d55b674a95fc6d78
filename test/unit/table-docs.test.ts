import { describe, expect, it } from 'vitest';
import { sourceCountsTable } from '../../core/loader/source-counts.js';
import { eventTable } from '../../core/model/event-table.js';
import { commentsToWrite, tableComments } from '../../core/model/table-docs.js';
import type { TableDefinition } from '../../core/model/table-definition.js';

const apiRequests: TableDefinition = {
  name: 'api_requests',
  columns: [
    { name: 'endpoint', type: 'text' },
    { name: 'source_key', type: 'text', required: true },
    { name: 'line_number', type: 'bigint', required: true },
  ],
  key: ['source_key', 'line_number'],
};

describe('table descriptions', () => {
  it('describe every column of events and source_counts, and each table', () => {
    const comments = tableComments([eventTable, sourceCountsTable]);
    for (const table of [eventTable, sourceCountsTable]) {
      expect(comments.filter((c) => c.table === table.name && c.column !== undefined).map((c) => c.column)).toEqual(table.columns.map((c) => c.name));
      expect(comments.some((c) => c.table === table.name && c.column === undefined)).toBe(true);
    }
    expect(new Set(comments.map((c) => c.table))).toEqual(new Set(['load_manifest', 'load_failures', 'load_quarantine', 'load_collisions', 'events', 'source_counts']));
  });

  it("give a rules file's table a table comment and its source_key and line_number ones, not the columns the rules file declares", () => {
    const comments = tableComments([apiRequests]).filter((c) => c.table === 'api_requests');
    expect(comments.map((c) => c.column)).toEqual([undefined, 'source_key', 'line_number']);
    expect(comments[0]!.text).toMatch(/rules file/);
  });

  it('are written only where missing or changed, updating one that exists', () => {
    const wanted = tableComments([apiRequests]).filter((c) => c.table === 'api_requests');
    const written = commentsToWrite(wanted, [
      { table_name: 'api_requests', column_name: '', description: wanted[0]!.text },
      { table_name: 'api_requests', column_name: 'source_key', description: 'old' },
    ]);
    expect(written.map((c) => [c.column, c.exists])).toEqual([
      ['source_key', true],
      ['line_number', false],
    ]);
  });
});
