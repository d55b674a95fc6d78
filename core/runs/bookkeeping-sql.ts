import type { WarehouseKind } from '../loader/load-dialect.js';
import { bracketIdent, quoteIdent, stringLiteral } from '../loader/sql-text.js';

/**
 * The SQL vocabulary of Ferry's own bookkeeping tables (run records, transform state, the
 * transform lease) per warehouse: quoting, placeholders, types, the UTC clock and
 * create-if-missing DDL. The load tables have their own in `core/loader/dialects/`.
 */
export interface BookkeepingSql {
  readonly kind: WarehouseKind;
  /** Which SQL a model's per-dialect branch is written for: `postgres`, `redshift` or `tsql`. */
  readonly family: 'postgres' | 'redshift' | 'tsql';
  quote(name: string, key?: string): string;
  /** `schema.name`, both quoted. */
  qualified(schema: string, name: string): string;
  /** The i-th positional parameter (1-based). */
  param(i: number): string;
  /** A Unicode text type of at most `length` characters (`max`: unbounded where the warehouse allows it). */
  text(length: number | 'max'): string;
  readonly timestamp: string;
  readonly bigint: string;
  readonly integer: string;
  /** The current UTC time as a timestamp without zone. */
  readonly now: string;
  /** `now` plus the seconds in parameter `param`. */
  nowPlusSeconds(param: string): string;
  /** `now` less whole days. */
  nowMinusDays(days: number): string;
  /** A string literal (values Ferry writes into DDL or where no parameter is taken). */
  literal(value: string): string;
  createSchema(schema: string): string;
  /** Creates the table when missing; `columns` are full definitions (`name type NULL`). */
  createTable(qualified: string, columns: readonly string[]): string;
  /** Whether DDL may run inside a transaction (Synapse allows none). */
  readonly transactionalDdl: boolean;
  /**
   * A statement that serializes schema changes on `schema` for the rest of the transaction, where
   * concurrent `IF NOT EXISTS` DDL can collide (PostgreSQL); the loader takes the same lock.
   */
  ddlLock(schema: string): string | undefined;
}

class PostgresSql implements BookkeepingSql {
  readonly kind: WarehouseKind = 'postgres';
  readonly family: 'postgres' | 'redshift' = 'postgres';
  readonly timestamp = 'timestamp';
  readonly bigint = 'bigint';
  readonly integer = 'integer';
  readonly now: string = `(now() AT TIME ZONE 'UTC')`;
  readonly transactionalDdl = true;
  quote(name: string, key?: string): string {
    return quoteIdent(name, key);
  }
  qualified(schema: string, name: string): string {
    return `${this.quote(schema)}.${this.quote(name)}`;
  }
  param(i: number): string {
    return `$${i}`;
  }
  text(_length: number | 'max'): string {
    return 'text';
  }
  nowPlusSeconds(param: string): string {
    return `${this.now} + ${param} * interval '1 second'`;
  }
  nowMinusDays(days: number): string {
    return `${this.now} - interval '${Math.trunc(days)} days'`;
  }
  literal(value: string): string {
    return stringLiteral(value);
  }
  createSchema(schema: string): string {
    return `CREATE SCHEMA IF NOT EXISTS ${this.quote(schema)}`;
  }
  createTable(qualified: string, columns: readonly string[]): string {
    return `CREATE TABLE IF NOT EXISTS ${qualified} (\n${columns.map((c) => `  ${c}`).join(',\n')}\n)`;
  }
  ddlLock(schema: string): string | undefined {
    return `SELECT pg_advisory_xact_lock(hashtext(${this.literal(`ferry.ddl.${schema}`)}))`;
  }
}

/** Redshift: TEXT would be VARCHAR(256); `GETDATE()` is UTC there. */
class RedshiftSql extends PostgresSql {
  override readonly kind: WarehouseKind = 'redshift';
  override readonly family = 'redshift' as const;
  override readonly now = 'GETDATE()';
  override text(length: number | 'max'): string {
    return `VARCHAR(${length === 'max' ? 65535 : Math.min(length * 4, 65535)})`;
  }
  override nowPlusSeconds(param: string): string {
    return `DATEADD(second, ${param}, GETDATE())`;
  }
  override nowMinusDays(days: number): string {
    return `DATEADD(day, -${Math.trunc(days)}, GETDATE())`;
  }
  // No advisory locks on Redshift; its DDL serializes on the catalog.
  override ddlLock(): string | undefined {
    return undefined;
  }
}

class TsqlSql implements BookkeepingSql {
  readonly family = 'tsql' as const;
  readonly timestamp = 'DATETIME2(3)';
  readonly bigint = 'BIGINT';
  readonly integer = 'INT';
  readonly now = 'SYSUTCDATETIME()';
  readonly transactionalDdl: boolean = true;
  constructor(readonly kind: WarehouseKind) {}
  quote(name: string, key?: string): string {
    return bracketIdent(name, key);
  }
  qualified(schema: string, name: string): string {
    return `${this.quote(schema)}.${this.quote(name)}`;
  }
  param(i: number): string {
    return `@p${i}`;
  }
  text(length: number | 'max'): string {
    return `NVARCHAR(${length === 'max' ? 'MAX' : length})`;
  }
  nowPlusSeconds(param: string): string {
    return `DATEADD(second, ${param}, SYSUTCDATETIME())`;
  }
  nowMinusDays(days: number): string {
    return `DATEADD(day, -${Math.trunc(days)}, SYSUTCDATETIME())`;
  }
  literal(value: string): string {
    return stringLiteral(value, 'N');
  }
  createSchema(schema: string): string {
    return `IF SCHEMA_ID(${this.literal(schema)}) IS NULL EXEC sp_executesql N'CREATE SCHEMA ${this.quote(schema)}'`;
  }
  protected tableOptions(): string {
    return '';
  }
  ddlLock(): string | undefined {
    return undefined;
  }
  createTable(qualified: string, columns: readonly string[]): string {
    return `IF OBJECT_ID(${this.literal(qualified)}, N'U') IS NULL CREATE TABLE ${qualified} (\n${columns.map((c) => `  ${c}`).join(',\n')}\n)${this.tableOptions()}`;
  }
}

/** Synapse: no DDL in user transactions; small round-robin heaps; NVARCHAR(MAX) kept off columnstore. */
class SynapseSql extends TsqlSql {
  override readonly transactionalDdl = false;
  override text(length: number | 'max'): string {
    return `NVARCHAR(${length === 'max' ? 4000 : Math.min(length, 4000)})`;
  }
  protected override tableOptions(): string {
    return '\nWITH (DISTRIBUTION = ROUND_ROBIN, HEAP)';
  }
}

/** Fabric: UTF-8 VARCHAR only (no NVARCHAR). */
class FabricSql extends TsqlSql {
  override text(length: number | 'max'): string {
    return `VARCHAR(${length === 'max' ? 'MAX' : Math.min(length * 2, 8000)})`;
  }
}

/** The bookkeeping vocabulary of a warehouse kind. */
export function bookkeepingSql(kind: WarehouseKind): BookkeepingSql {
  switch (kind) {
    case 'postgres':
      return new PostgresSql();
    case 'redshift':
      return new RedshiftSql();
    case 'azuresql':
      return new TsqlSql('azuresql');
    case 'synapse':
      return new SynapseSql('synapse');
    case 'fabric':
      return new FabricSql('fabric');
  }
}
