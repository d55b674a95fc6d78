const quote = 0x22;
const comma = 0x2c;
const lf = 0x0a;

/**
 * Picks a few columns out of the parser's CSV (RFC 4180, LF-terminated, `encodeCsvRow`'s NULL
 * convention) while it streams past, fed chunk by chunk: for each record, the text of the columns
 * at `indices` (ascending), `null` for an unquoted empty field. The rest of a record is skipped
 * with `indexOf` rather than read byte by byte, so a wide row costs little more than a narrow one;
 * a record split across chunks is read again once its end has arrived.
 */
export class CsvColumns {
  /** Per picked column, its value in each record so far (without a `sink`). */
  readonly values: (string | null)[][];
  /** Records read so far. */
  records = 0;
  private tail: Buffer | undefined;
  private readonly last: number;

  /**
   * With `sink`, each record's picked values go to it instead of `values`, with where the
   * record's bytes are: `source[start, end)`, its LF included; `source` is a chunk pushed or,
   * for a record cut across chunks, a buffer joining its parts, never written to afterwards.
   */
  constructor(
    private readonly indices: readonly number[],
    private readonly sink?: (picked: readonly (string | null)[], source: Buffer, start: number, end: number) => void,
  ) {
    this.values = indices.map(() => []);
    this.last = indices[indices.length - 1]!;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = this.tail ? this.finishTail(buf) : 0;
    if (start < 0) return;
    for (;;) {
      const end = this.record(buf, start);
      if (end < 0) break;
      start = end;
    }
    // A copy: a view would keep the whole chunk alive.
    this.tail = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
  }

  /**
   * Reads the record the previous chunk cut, joining to it only as much of `buf` as it needs (up
   * to one LF after another); returns where the rest of `buf` starts, or -1 if it is not all here.
   */
  private finishTail(buf: Buffer): number {
    for (let upTo = buf.indexOf(lf) + 1; upTo > 0; upTo = buf.indexOf(lf, upTo) + 1) {
      const joined = Buffer.concat([this.tail!, buf.subarray(0, upTo)]);
      const end = this.record(joined, 0);
      if (end < 0) continue;
      this.tail = undefined;
      return upTo - (joined.length - end);
    }
    this.tail = Buffer.concat([this.tail!, buf]);
    return -1;
  }

  /** Whether everything pushed ended with a whole record. */
  get complete(): boolean {
    return this.tail === undefined;
  }

  /** Reads the record at `start`; returns where the next one starts, or -1 if it is not all here. */
  private record(buf: Buffer, start: number): number {
    if (start >= buf.length) return -1;
    const picked: (string | null)[] = [];
    let pos = start;
    for (let field = 0, want = 0; field <= this.last; field++) {
      const wanted = this.indices[want] === field;
      let value: string | null;
      let next: number;
      if (buf[pos] === quote) {
        const close = closingQuote(buf, pos + 1);
        if (close < 0 || close + 1 >= buf.length) return -1;
        value = wanted ? buf.toString('utf8', pos + 1, close).replaceAll('""', '"') : '';
        next = close + 1;
      } else {
        next = fieldEnd(buf, pos);
        if (next < 0) return -1;
        value = wanted ? (next === pos ? null : buf.toString('utf8', pos, next)) : '';
      }
      if (wanted) {
        picked.push(value);
        want++;
      }
      if (buf[next] === lf) {
        if (field < this.last) for (; want < this.indices.length; want++) picked.push(null); // a short row: COPY refuses it
        return this.keep(picked, buf, start, next + 1);
      }
      pos = next + 1;
    }
    const end = recordEnd(buf, pos);
    return end < 0 ? -1 : this.keep(picked, buf, start, end + 1);
  }

  private keep(picked: (string | null)[], buf: Buffer, start: number, next: number): number {
    this.records++;
    if (this.sink) this.sink(picked, buf, start, next);
    else for (let i = 0; i < picked.length; i++) this.values[i]!.push(picked[i]!);
    return next;
  }
}

/** The quote closing a quoted field whose text starts at `from` (a doubled quote is text), or -1. */
function closingQuote(buf: Buffer, from: number): number {
  for (let at = buf.indexOf(quote, from); at >= 0; at = buf.indexOf(quote, at + 2)) {
    if (at + 1 >= buf.length) return -1; // cannot tell "" from the end yet
    if (buf[at + 1] !== quote) return at;
  }
  return -1;
}

/** The comma or LF ending an unquoted field that starts at `from`, or -1. */
function fieldEnd(buf: Buffer, from: number): number {
  for (let at = from; at < buf.length; at++) {
    const c = buf[at];
    if (c === comma || c === lf) return at;
  }
  return -1;
}

/** The LF ending the record whose rest starts at `from` (a field start), skipping quoted fields; -1 if not here. */
function recordEnd(buf: Buffer, from: number): number {
  let pos = from;
  for (;;) {
    const newline = buf.indexOf(lf, pos);
    if (newline < 0) return -1;
    const open = buf.indexOf(quote, pos);
    if (open < 0 || newline < open) return newline;
    const close = closingQuote(buf, open + 1);
    if (close < 0) return -1;
    pos = close + 1;
  }
}
