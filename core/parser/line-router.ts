import { FerryError, ParseError } from '../errors.js';
import { encodeCsvRow } from './csv.js';
import type { LineContext } from './dialect.js';
import type { GzipDamage } from './input-stream.js';
import { noteRequestId, type ParseSummary } from './parse-summary.js';
import type { RulePlan, TablePlan } from './rules/rule-plan.js';
import type { RuleSet } from './rules/rule-set.js';
import type { InputLine } from './split-lines.js';

/** A rejected line as a CSV row: input key, line number, reason, the line (NULs made visible). */
export function rejectedRow(key: string, line: InputLine, reason: string): string {
  return encodeCsvRow([key, String(line.number), reason, line.text.replaceAll('\0', '\uFFFD')]);
}

/**
 * Routes one input's lines to rows: each line is read by the first dialect that parses it, each
 * record classified by the rules, and its row kept for its table until the caller takes the
 * rows (`takeRows`); rejected lines become rows of the rejected file. Counts every line in the
 * input's summary, so `lines = accepted + ignored + rejected` always holds.
 *
 * A line with any bad record is rejected whole, unless its reader rejected that record alone
 * (`LineContext.rejectRecord`).
 */
export class LineRouter {
  /** Rows routed since the last `takeRows`, per table in plan order, each without its LF. */
  private readonly rows: string[][];
  private rejected: string[] = [];
  // Reasons of the current line's records rejected alone; kept only if the line itself is not rejected.
  private readonly lineRejects: string[] = [];
  private readonly context: LineContext;
  // Slots are overwritten, never cleared: setting an array's length is a runtime call per line.
  private readonly lineTables: TablePlan[] = [];
  private readonly lineRows: string[] = [];

  constructor(
    private readonly plan: RulePlan,
    private readonly ruleSet: RuleSet,
    readonly summary: ParseSummary,
    private readonly maxLineBytes: number,
  ) {
    this.rows = plan.tables.map(() => []);
    this.context = { sourceKey: summary.source_key, lineNumber: 0, replaced: 0, rejectRecord: (reason) => this.lineRejects.push(reason), requestId: (id) => noteRequestId(summary, id) };
  }

  /** Reads, classifies and keeps one line. */
  route(line: InputLine): void {
    const summary = this.summary;
    summary.lines++;
    if (line.tooLong) return this.reject(line, `line longer than ${this.maxLineBytes} bytes`);
    if (line.text.length === 0 || (line.text.charCodeAt(0) <= 32 && line.text.trim() === '')) {
      summary.ignored++;
      summary.ignored_by.blank++;
      return;
    }
    const context = this.context;
    // A rejected or ignored line's replacements are not stored, so they are not counted.
    const replacedBefore = context.replaced;
    try {
      context.lineNumber = line.number;
      if (this.lineRejects.length > 0) this.lineRejects.length = 0;
      const records = this.plan.read(line.text, context);
      if (records === undefined) throw new ParseError(`no dialect matched the line (tried ${this.ruleSet.dialects.map((d) => d.name).join(', ')})`);
      let count = 0;
      let lastIgnore: 'filtered' | 'rule' | 'unmatched' = 'unmatched';
      for (const values of records) {
        const decision = this.plan.classify(values, summary.source_key, line.number);
        if (decision.kind === 'route') {
          this.plan.complete(values);
          this.lineTables[count] = decision.table;
          this.lineRows[count++] = decision.table.row(values);
        } else if (decision.kind === 'ignore') lastIgnore = decision.reason;
        else throw new ParseError(decision.reason);
      }
      if (count === 0) {
        summary.ignored++;
        summary.ignored_by[lastIgnore]++;
        context.replaced = replacedBefore;
        this.keepRecordRejects(line);
        return;
      }
      for (let r = 0; r < count; r++) this.rows[this.lineTables[r]!.index]!.push(this.lineRows[r]!);
      summary.accepted++;
      this.keepRecordRejects(line);
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      context.replaced = replacedBefore;
      this.reject(line, err.message);
    }
  }

  /** Counts an unreadable tail as one rejected line (holding the cut line's text, if any). */
  damaged(damage: GzipDamage): { line: InputLine; reason: string } {
    this.summary.lines++;
    const reason = `gzip data unreadable after ${damage.readableBytes} decompressed bytes (${damage.reason}); the rest of the object is lost`;
    const line: InputLine = { number: this.summary.lines, text: damage.fragment.subarray(0, this.maxLineBytes).toString('utf8'), tooLong: false };
    this.reject(line, reason);
    return { line, reason };
  }

  /**
   * The rows routed since the last call, per table in plan order, and the rejected rows; the
   * router starts afresh. The caller counts them into the summary as it writes them.
   */
  takeRows(): { rows: string[][]; rejected: string[] } {
    const rows: string[][] = [];
    for (let i = 0; i < this.rows.length; i++) {
      rows.push(this.rows[i]!);
      this.rows[i] = [];
    }
    const taken = { rows, rejected: this.rejected };
    this.rejected = [];
    return taken;
  }

  /** Whether rows or rejected rows are waiting to be taken. */
  get pending(): boolean {
    return this.rejected.length > 0 || this.rows.some((r) => r.length > 0);
  }

  /** Records the replacements of the lines kept; call once, after the last line. */
  finish(): ParseSummary {
    if (this.context.replaced! > 0) this.summary.replaced = this.context.replaced;
    return this.summary;
  }

  private reject(line: InputLine, reason: string): void {
    this.summary.rejected++;
    this.rejected.push(rejectedRow(this.summary.source_key, line, reason));
  }

  private keepRecordRejects(line: InputLine): void {
    if (this.lineRejects.length === 0) return;
    for (const reason of this.lineRejects) this.rejected.push(rejectedRow(this.summary.source_key, line, reason));
    this.summary.rejected_records = (this.summary.rejected_records ?? 0) + this.lineRejects.length;
  }
}
