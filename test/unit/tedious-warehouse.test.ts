import { describe, expect, it } from 'vitest';
import { TYPES } from 'tedious';
import { bulkColumn, connectionConfigFromUrl, parameterType, toBulkRow } from '../../core/adapters/tedious-warehouse.js';
import { ConfigError } from '../../core/errors.js';

/**
 * The SQL Server adapter's pure parts. No SQL Server runs here (see the README's support table);
 * the statements it sends are the dialects' golden SQL, parsed by sqlfluff.
 */
describe('tedious warehouse adapter', () => {
  it('reads SQL authentication from the URL, TLS always on', () => {
    expect(connectionConfigFromUrl('sqlserver://loader:p%40ss@srv.database.windows.net:1433/ferry')).toEqual({
      server: 'srv.database.windows.net',
      authentication: { type: 'default', options: { userName: 'loader', password: 'p@ss' } },
      options: { database: 'ferry', port: 1433, encrypt: true, trustServerCertificate: false, requestTimeout: 0, useUTC: true },
    });
  });

  it('uses the managed identity with authentication=default', () => {
    const config = connectionConfigFromUrl('sqlserver://ws.sql.azuresynapse.net/pool?authentication=default');
    expect(config.authentication).toEqual({ type: 'azure-active-directory-default', options: {} });
    expect(config.options).toMatchObject({ database: 'pool', port: 1433 });
  });

  it.each([
    ['postgres://u@h/d', 'must be a sqlserver:// URL'],
    ['sqlserver://u:p@h', 'names no database'],
    ['sqlserver://h/d', 'authentication must be'],
    ['sqlserver://h/d?authentication=password', 'authentication must be'],
    ['::', 'is not a valid URL'],
  ])('refuses %j naming DATABASE_URL', (url, reason) => {
    const error = (() => {
      try {
        connectionConfigFromUrl(url);
      } catch (err) {
        return err;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems.map((p) => p.key)).toContain('DATABASE_URL');
    expect(error.problems.map((p) => p.reason).join(' ')).toContain(reason);
  });

  it('types parameters by value', () => {
    expect(parameterType('x')).toBe(TYPES.NVarChar);
    expect(parameterType(null)).toBe(TYPES.NVarChar);
    expect(parameterType(42)).toBe(TYPES.BigInt);
    expect(parameterType(0.5)).toBe(TYPES.Float);
    expect(parameterType(new Date(0))).toBe(TYPES.DateTime2);
  });

  it('converts CSV records to typed bulk rows: exact 64-bit integers, NULL apart from empty text, UTC timestamps', () => {
    const row = toBulkRow(['9007199254740993', '', null, '2026-11-23T10:00:00.123Z', '1.5', '{"a":1}'], ['bigint', 'text', 'text', 'timestamp', 'double', 'json']);
    expect(row).toEqual([9007199254740993n, '', null, new Date(Date.UTC(2026, 10, 23, 10, 0, 0, 123)), 1.5, '{"a":1}']);
  });

  it('bulk-loads text as NVARCHAR(MAX) and timestamps with millisecond scale', () => {
    expect(bulkColumn('text')).toEqual({ type: TYPES.NVarChar, length: Infinity });
    expect(bulkColumn('timestamp')).toEqual({ type: TYPES.DateTime2, scale: 3 });
    expect(bulkColumn('bigint')).toEqual({ type: TYPES.BigInt });
  });
});
