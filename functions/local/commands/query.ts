import type { FerryConfig } from '../../../core/config.js';
import { FerryError } from '../../../core/errors.js';
import type { Row, Warehouse } from '../../../core/ports/warehouse.js';
import { formatRows } from '../format-rows.js';
import { splitStatements } from '../split-sql.js';
import { usageError, withWarehouseQueries, type Command } from './command.js';

/**
 * A missing relation explained: PostgreSQL's own message does not say that Ferry creates its
 * tables at the first load, nor which tables there are.
 */
async function explainMissingRelation(config: FerryConfig, warehouse: Pick<Warehouse, 'query'>, err: unknown): Promise<unknown> {
  if ((err as { code?: string }).code !== '42P01' || config.warehouse.kind !== 'postgres') return err;
  const schema = config.warehouseSchema;
  const tables = await warehouse.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
  const why = tables.length === 0
    ? `no load has run yet into schema ${schema} (the first load creates Ferry's tables: ferry serve loads every FERRY_LOAD_INTERVAL_S, ferry load loads now)`
    : `schema ${schema} has ${tables.map((t) => t.name).join(', ')} (a rules file's tables exist once a load ran with it in force)`;
  return new FerryError('query_failed', `${(err as Error).message}: ${why}`, {}, { cause: err });
}

/** Runs each statement in turn (as psql does), stopping at the first that fails. */
async function runStatements(config: FerryConfig, statements: readonly string[]): Promise<Row[][]> {
  return withWarehouseQueries(config, async (warehouse) => {
    const results: Row[][] = [];
    for (const sql of statements) {
      try {
        results.push(await warehouse.query(sql));
      } catch (err) {
        throw await explainMissingRelation(config, warehouse, err);
      }
    }
    return results;
  });
}

export const queryCommand: Command = {
  name: 'query',
  synopsis: ['query "<sql>" [--json]'],
  summary: 'Runs SQL on the configured warehouse and prints the rows (on the embedded warehouse, through\nthe server a running ferry serve started). Several statements separated by ; run in turn.',
  optionHelp: [['--json', 'print the rows as a JSON array (one line per statement)']],
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run({ values, positionals, config }) {
    const statements = splitStatements(positionals.join(' '));
    if (statements.length === 0) throw usageError('query', 'ferry query needs SQL, e.g. ferry query "select count(*) from ferry.events"');
    const results = await runStatements(config(), statements);
    process.stdout.write(results.map((rows) => (values.json ? `${JSON.stringify(rows)}\n` : formatRows(rows))).join(values.json ? '' : '\n'));
  },
};
