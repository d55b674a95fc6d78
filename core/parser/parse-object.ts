import { DeadlineError, FerryError, ParseError, VersionChangedError } from '../errors.js';
import { defaultClockSkewThresholdS } from '../model/flatten-event.js';
import type { BlobBody, BlobStore } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import { encodeCsvRow } from './csv.js';
import type { LineContext } from './dialect.js';
import { GzipSpool } from './gzip-spool.js';
import { openInput } from './input-stream.js';
import { outputKeysFor, parsedMetadata } from './output-keys.js';
import { compileRuleSets } from './rules/load-rules.js';
import { planFor, type TablePlan } from './rules/rule-plan.js';
import { ruleSetFor, type RuleSet } from './rules/rule-set.js';
import { splitLineBatches, type InputLine } from './split-lines.js';

/**
 * What became of one input object. `lines = accepted + ignored + rejected`, always; `ignored_by`
 * splits the ignored lines by why (blank, filtered out, an ignore rule, no rule matched).
 */
export interface ParseSummary {
  source: string;
  source_key: string;
  source_etag: string;
  date: string;
  lines: number;
  /** Lines that produced rows (a collector line gives one row per event). */
  accepted: number;
  ignored: number;
  ignored_by: { blank: number; filtered: number; rule: number; unmatched: number };
  rejected: number;
  /** Rows written per output table. */
  rows: Record<string, number>;
  outputs: string[];
  /**
   * Values (text fields, parameter names or values) in which characters no warehouse can store
   * (NUL, lone surrogates, invalid UTF-8) were replaced with U+FFFD; absent when none.
   */
  replaced?: number;
  /**
   * Records rejected alone from lines whose other records were kept (a collector line's payload);
   * each is a row of `rejected/…` as well. Absent when none.
   */
  rejected_records?: number;
}

/** Dependencies and limits of the parser. */
export interface ParseOptions {
  store: BlobStore;
  logger: Logger;
  /** Compiled rules; the built-in event rules when omitted. */
  ruleSets?: readonly RuleSet[];
  /** Lines longer than this many bytes are rejected without being buffered. */
  maxLineBytes?: number;
  /** Where output is spooled before upload (the OS temp dir by default). */
  spoolDir?: string;
  /** Milliseconds the host leaves this invocation (Lambda's `getRemainingTimeInMillis`). */
  remainingMs?: () => number;
  /** Time kept in hand to publish the outputs; below it the parse is abandoned (default 10 s). */
  reserveMs?: number;
}

/**
 * Input object to parse: its key and, when the trigger knows it, its version tag. With `etag`,
 * only that version is parsed: if the key holds another by now, `parseObject` throws
 * `VersionChangedError` and writes nothing (the newer version has its own notification).
 * Without it, the current version.
 */
export interface ParseInput {
  key: string;
  etag?: string;
}

let defaultRuleSets: RuleSet[] | undefined;

/** A rejected line as a CSV row: input key, line number, reason, the line (NULs made visible). */
function rejectedRow(key: string, line: InputLine, reason: string): string {
  return encodeCsvRow([key, String(line.number), reason, line.text.replaceAll('\0', '\uFFFD')]);
}

/**
 * Parses one input object with the rule set that handles its key: each line is read by the first
 * dialect that parses it, each record classified by the rules, and written to one gzip'd CSV per
 * table; rejected lines go to `rejected/…` with line number and reason, and a summary (written
 * last) marks the input as done. Deterministic: the same input version gives byte-identical
 * objects under the same keys. Memory stays flat: input is streamed, output spooled to disk.
 */
export async function parseObject(options: ParseOptions, input: ParseInput): Promise<ParseSummary> {
  const { store, logger } = options;
  const ruleSets = options.ruleSets ?? (defaultRuleSets ??= compileRuleSets([], { clockSkewThresholdS: defaultClockSkewThresholdS }));
  const ruleSet = ruleSetFor(ruleSets, input.key);
  if (!ruleSet) throw new ParseError(`no rules file handles ${input.key} (prefixes: ${ruleSets.map((s) => s.prefix).join(', ')})`, { key: input.key });
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const reserveMs = options.reserveMs ?? 10_000;
  const checkDeadline = (stage: string) => {
    const left = options.remainingMs?.();
    if (left !== undefined && left < reserveMs) throw new DeadlineError(`stopped ${stage}: ${left} ms left, ${reserveMs} ms needed to publish; nothing was published`, { key: input.key });
  };
  const info = await store.head(input.key);
  if (input.etag !== undefined && input.etag !== info.etag) throw new VersionChangedError(input.key, input.etag, info.etag);
  // Outputs are named by this version, and the read below fails rather than return another.
  const etag = info.etag;
  const keys = outputKeysFor(input.key, etag, info.lastModified);
  const spools = new Map<string, GzipSpool>();
  const spoolFor = (name: string) => spools.get(name) ?? spools.set(name, new GzipSpool(options.spoolDir)).get(name)!;
  const tableNames = [...ruleSet.tables.keys()];
  const summary: ParseSummary = {
    source: ruleSet.source,
    source_key: input.key,
    source_etag: etag,
    date: keys.date,
    lines: 0,
    accepted: 0,
    ignored: 0,
    ignored_by: { blank: 0, filtered: 0, rule: 0, unmatched: 0 },
    rejected: 0,
    rows: Object.fromEntries(tableNames.map((t) => [t, 0])),
    outputs: [],
  };
  const plan = planFor(ruleSet);
  // Reasons of the current line's records rejected alone; kept only if the line itself is not rejected.
  const lineRejects: string[] = [];
  const context: LineContext = { sourceKey: input.key, lineNumber: 0, replaced: 0, rejectRecord: (reason) => lineRejects.push(reason) };
  // Rows of the current chunk per table (plan order), and of the current line until it is accepted whole.
  const chunkRows: string[][] = plan.tables.map(() => []);
  let rejectedRows: string[] = [];
  // Slots are overwritten, never cleared: setting an array's length is a runtime call per line.
  const lineTables: TablePlan[] = [];
  const lineRows: string[] = [];
  let lineCount = 0;
  const reject = (line: InputLine, reason: string) => {
    summary.rejected++;
    rejectedRows.push(rejectedRow(input.key, line, reason));
  };
  const keepRecordRejects = (line: InputLine) => {
    if (lineRejects.length === 0) return;
    for (const reason of lineRejects) rejectedRows.push(rejectedRow(input.key, line, reason));
    summary.rejected_records = (summary.rejected_records ?? 0) + lineRejects.length;
  };
  // One line → zero or more rows; a line with any bad record is rejected whole, unless its reader
  // rejected that record alone (`LineContext.rejectRecord`).
  const parseLine = (line: InputLine) => {
    summary.lines++;
    if (line.tooLong) return reject(line, `line longer than ${maxLineBytes} bytes`);
    if (line.text.length === 0 || (line.text.charCodeAt(0) <= 32 && line.text.trim() === '')) {
      summary.ignored++;
      summary.ignored_by.blank++;
      return;
    }
    // A rejected or ignored line's replacements are not stored, so they are not counted.
    const replacedBefore = context.replaced;
    try {
      context.lineNumber = line.number;
      if (lineRejects.length > 0) lineRejects.length = 0;
      const records = plan.read(line.text, context);
      if (records === undefined) throw new ParseError(`no dialect matched the line (tried ${ruleSet.dialects.map((d) => d.name).join(', ')})`);
      lineCount = 0;
      let lastIgnore: 'filtered' | 'rule' | 'unmatched' = 'unmatched';
      for (const values of records) {
        const decision = plan.classify(values, input.key, line.number);
        if (decision.kind === 'route') {
          plan.complete(values);
          lineTables[lineCount] = decision.table;
          lineRows[lineCount++] = decision.table.row(values);
        } else if (decision.kind === 'ignore') lastIgnore = decision.reason;
        else throw new ParseError(decision.reason);
      }
      if (lineCount === 0) {
        summary.ignored++;
        summary.ignored_by[lastIgnore]++;
        context.replaced = replacedBefore;
        keepRecordRejects(line);
        return;
      }
      for (let r = 0; r < lineCount; r++) chunkRows[lineTables[r]!.index]!.push(lineRows[r]!);
      summary.accepted++;
      keepRecordRejects(line);
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      context.replaced = replacedBefore;
      reject(line, err.message);
    }
  };
  try {
    const inputStream = await openInput(await store.get(input.key, { etag }), maxLineBytes, info.size);
    for await (const batch of splitLineBatches(inputStream.body, maxLineBytes)) {
      for (const line of batch) parseLine(line);
      for (const table of plan.tables) {
        const rows = chunkRows[table.index]!;
        if (rows.length === 0) continue;
        const name = table.table.definition.name;
        summary.rows[name]! += rows.length;
        const count = rows.length;
        // An empty last element gives the final LF in the same flat string; appending it after
        // the join made a second string the spool then copied whole to flatten.
        rows.push('');
        await spoolFor(name).write(rows.join('\n'), count);
        rows.length = 0;
      }
      if (rejectedRows.length > 0) {
        await spoolFor('').write(rejectedRows.join(''), rejectedRows.length);
        rejectedRows = [];
      }
      checkDeadline(`at line ${summary.lines}`);
    }
    const damage = inputStream.damage();
    if (damage) {
      // The unreadable tail counts as one rejected line (holding the cut line's text, if any), so the accounting still balances.
      summary.lines++;
      summary.rejected++;
      const reason = `gzip data unreadable after ${damage.readableBytes} decompressed bytes (${damage.reason}); the rest of the object is lost`;
      const line: InputLine = { number: summary.lines, text: damage.fragment.subarray(0, maxLineBytes).toString('utf8'), tooLong: false };
      await spoolFor('').write(rejectedRow(input.key, line, reason), 1);
      logger.warn('input is damaged', { key: input.key, line: line.number, reason });
    }
    if (context.replaced! > 0) summary.replaced = context.replaced;
    checkDeadline('before publishing');
    const finished: { key: string; body: BlobBody; rows: number }[] = [];
    for (const table of tableNames) {
      const spool = spools.get(table);
      if (spool && spool.count > 0) finished.push({ key: keys.table(table), body: (await spool.finish()).body, rows: spool.count });
    }
    const rejected = spools.get('');
    if (rejected && rejected.count > 0) finished.push({ key: keys.rejected, body: (await rejected.finish()).body, rows: rejected.count });
    const sourceMetadata = { [parsedMetadata.sourceKey]: encodeURIComponent(input.key), [parsedMetadata.sourceEtag]: etag };
    for (const output of finished) {
      await store.put(output.key, output.body, { ...sourceMetadata, [parsedMetadata.rows]: String(output.rows) });
      summary.outputs.push(output.key);
    }
    await store.put(keys.summary, Buffer.from(`${JSON.stringify(summary)}\n`));
    logger.info('parsed', { key: input.key, source: ruleSet.source, lines: summary.lines, rows: summary.rows, ignored: summary.ignored, rejected: summary.rejected });
    return summary;
  } finally {
    await Promise.all([...spools.values()].map((s) => s.dispose()));
  }
}

/** The summary key that marks `key` at version `etag` as parsed. */
export function summaryKeyFor(key: string, etag: string, lastModified: Date): string {
  return outputKeysFor(key, etag, lastModified).summary;
}
