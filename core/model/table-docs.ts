import type { TableDefinition } from './table-definition.js';

/**
 * What each of Ferry's tables and columns holds, in an analyst's words: the loader writes these
 * into the warehouse's catalog (`COMMENT ON`, or `MS_Description` extended properties on Azure
 * SQL), so a SQL client shows them next to the columns. docs/warehouses.md says the same at length.
 */
export interface TableDoc {
  table: string;
  columns: Readonly<Record<string, string>>;
}

const events: TableDoc = {
  table: 'One row per collected event, flattened with its collection. Keyed (session, nr, fingerprint): a re-sent identical event is stored once. Loaded by the date the collector received it.',
  columns: {
    device_id: "The device's identifier, as the client sent it.",
    client_id: 'The app or client that sent the event.',
    session: 'The session hash: md5 of device_id, client_id, system_version, product_version and env as its number.',
    nr: "The event's number within its session.",
    env: "The collection's environment by name (PRODUCTION, STAGING, ...).",
    system_version: "The operating system's version.",
    product_version: "The app's version.",
    at: "When the event happened by the device's clock, UTC. May be wrong by the device's clock skew; see at_corrected.",
    timezone: "The device's time zone, e.g. Europe/Berlin; at is UTC regardless.",
    event: "The event's name.",
    device_make: 'The device maker, NULL when not sent.',
    device_model: 'The device model, NULL when not sent.',
    system: 'The operating system, NULL when not sent.',
    system_language: "The system's language, NULL when not sent.",
    browser: 'The browser, NULL when not sent.',
    browser_version: "The browser's version, NULL when not sent.",
    product_git_hash: "The app build's commit, NULL when not sent.",
    product_language: "The app's language, NULL when not sent.",
    user_id: 'The user, NULL when not sent.',
    tenant_id: 'The tenant, NULL when not sent.',
    ip: 'The client address: the payload\'s, else the one the collector saw (masked when FERRY_MASK_IP is on).',
    country: 'The country the payload names, NULL when not sent.',
    parameters: "The event's parameters as one JSON object (a repeated name keeps its last value).",
    received_at: "When the collector received the request, by the server's clock, UTC. Decides the date partition ferry load --from/--to means.",
    sent_at: 'When the client says it sent the request (X-Hamustro-Time), UTC; NULL when it did not say.',
    clock_skew_s: "received_at minus sent_at in whole seconds: how far the device's clock is behind; NULL without sent_at.",
    at_corrected: 'at plus clock_skew_s when the skew is over FERRY_CLOCK_SKEW_THRESHOLD_S, else at. Use it for daily activity.',
    source_key: 'The raw object in storage the row was parsed from.',
    fingerprint: 'Hex hash of the payload as the client sent it: tells a re-send (same) from a different event sharing (session, nr).',
  },
};

/** Columns every rules (log) table has, whatever its rules file declares. */
const logColumns: Readonly<Record<string, string>> = {
  source_key: 'The log object in storage the row was parsed from.',
  line_number: "The line's number in that object (from 1).",
};

const tableDocs: Readonly<Record<string, TableDoc>> = {
  events,
  source_counts: {
    table: "Data quality per parsed input version, from the parser's summary: lines = accepted + ignored + rejected.",
    columns: {
      summary_key: "The parser's summary object this row came from.",
      source: 'The source: events, or the rules file that parsed the log.',
      source_key: 'The input object (raw events or a log).',
      source_etag: "The input object's version (ETag).",
      date: 'The date partition of the input (YYYY-MM-DD): the receive date of raw events, the date in a log key or its upload date.',
      lines: 'Lines (or events) read from the input.',
      accepted: 'Lines that became rows.',
      ignored: 'Lines skipped on purpose (blank, filtered or matched by no rule); ignored_by splits them.',
      rejected: 'Lines refused as malformed (written to rejected/ with the reason).',
      ignored_by: 'Ignored lines per reason, as a JSON object.',
      rows: 'Rows written per output table, as a JSON object.',
      collisions: 'Event rows of this input that share (session, nr) with a stored event of other content.',
      replaced: 'Values whose unstorable characters (NUL, lone surrogates, invalid UTF-8) became U+FFFD.',
    },
  },
  load_manifest: {
    table: 'One row per parsed file loaded, written in the same transaction as its rows: a file in it is never loaded again.',
    columns: {
      file_key: 'The parsed file.',
      etag: "The parsed file's version (ETag) that was loaded.",
      table_name: 'The table it was loaded into.',
      rows_expected: 'Rows the parser wrote into the file.',
      rows_loaded: 'Rows the warehouse read from it (equal to rows_expected, or the batch rolls back).',
      run_id: 'The load run.',
      loaded_at: 'When it was loaded (UTC).',
    },
  },
  load_failures: {
    table: 'One row per rolled-back load batch; ferry status shows the latest.',
    columns: {
      run_id: 'The load run.',
      table_name: 'The table of the batch.',
      code: "Ferry's error code.",
      message: 'The error message.',
      file_keys: 'The parsed files of the batch.',
      failed_at: 'When it failed (UTC).',
    },
  },
  load_quarantine: {
    table: 'Parsed files the warehouse refused, isolated so the table keeps loading; deleting a row releases the file.',
    columns: {
      file_key: 'The parsed file.',
      etag: "The file's version (ETag) that was refused.",
      table_name: 'The table it was meant for.',
      code: "Ferry's error code.",
      sqlstate: "The warehouse's SQLSTATE or error number.",
      message: "The warehouse's message.",
      run_id: 'The load run that quarantined it.',
      quarantined_at: 'When (UTC).',
    },
  },
  load_collisions: {
    table: 'Collision counts per raw input, kept until its summary loads into source_counts.',
    columns: {
      source_key: 'The raw events object.',
      collisions: 'Event rows of it that share (session, nr) with a stored event of other content.',
    },
  },
};

/** One comment Ferry sets: on a table, or on one of its columns. */
export interface TableComment {
  table: string;
  column?: string;
  text: string;
}

/** Ferry's bookkeeping tables every dialect creates, which are no `TableDefinition`. */
export const loadBookkeepingTables = ['load_manifest', 'load_failures', 'load_quarantine', 'load_collisions'] as const;

/**
 * The comments for the load bookkeeping tables and `tables`: a rules table gets its
 * `source_key`/`line_number` ones and a table comment naming its origin.
 */
export function tableComments(tables: readonly TableDefinition[]): TableComment[] {
  const out: TableComment[] = [];
  const add = (table: string, doc: TableDoc, columns: readonly string[]) => {
    out.push({ table, text: doc.table });
    for (const column of columns) {
      const text = doc.columns[column];
      if (text !== undefined) out.push({ table, column, text });
    }
  };
  for (const name of loadBookkeepingTables) add(name, tableDocs[name]!, Object.keys(tableDocs[name]!.columns));
  for (const table of tables) {
    const doc = tableDocs[table.name] ?? { table: 'Rows parsed from log lines by a rules file (see docs/rules.md).', columns: logColumns };
    add(table.name, doc, table.columns.map((c) => c.name));
  }
  return out;
}

/** A comment as stored in the catalog: `column` is '' for the table's own. */
export type StoredComment = {
  table_name: string;
  column_name: string;
  description: string | null;
};

/** The comments that are missing or differ from what the catalog holds, with whether one exists. */
export function commentsToWrite(wanted: readonly TableComment[], stored: readonly StoredComment[]): (TableComment & { exists: boolean })[] {
  const current = new Map(stored.map((s) => [`${s.table_name}.${s.column_name}`, s.description]));
  return wanted
    .map((c) => ({ ...c, current: current.get(`${c.table}.${c.column ?? ''}`) }))
    .filter((c) => c.current !== c.text)
    .map(({ current, ...c }) => ({ ...c, exists: current !== undefined && current !== null }));
}
