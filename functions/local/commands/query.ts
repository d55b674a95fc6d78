import type { FerryConfig } from '../../../core/config.js';
import type { Row } from '../../../core/ports/warehouse.js';
import { queryAdminSocket } from '../admin-socket.js';
import { formatRows } from '../format-rows.js';
import { localPaths } from '../local-pipeline.js';
import { usageError, withWarehouse, type Command } from './command.js';

/** Runs SQL, going through a running `ferry serve` when it owns the embedded warehouse. */
async function query(config: FerryConfig, sql: string): Promise<Row[]> {
  if (!config.databaseUrl) {
    const viaServer = await queryAdminSocket(localPaths(config.dataDir).socket, sql);
    if (viaServer !== undefined) return viaServer;
  }
  return withWarehouse(config, (warehouse) => warehouse.query(sql));
}

export const queryCommand: Command = {
  name: 'query',
  synopsis: ['query "<sql>" [--json]'],
  summary: 'Runs SQL on the configured warehouse and prints the rows (through a running ferry serve\nwhen it owns the embedded warehouse).',
  optionHelp: [['--json', 'print the rows as a JSON array']],
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run({ values, positionals, config }) {
    const sql = positionals.join(' ');
    if (sql.trim() === '') throw usageError('query', 'ferry query needs SQL, e.g. ferry query "select count(*) from ferry.events"');
    const rows = await query(config(), sql);
    process.stdout.write(values.json ? `${JSON.stringify(rows)}\n` : formatRows(rows));
  },
};
