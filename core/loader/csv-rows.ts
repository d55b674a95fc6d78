import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { LoadError } from '../errors.js';

/** One CSV record: `null` for an unquoted empty field (SQL NULL), else the field's text. */
export type CsvRecord = (string | null)[];

/**
 * Reads the parser's CSV (RFC 4180, LF-terminated, `encodeCsvRow`'s NULL convention) back into
 * records, streaming: one record is held at a time, however large the file. For warehouses whose
 * bulk path takes values rather than CSV text (the SQL Server family's TDS bulk load, and the
 * small parameterised inserts of parse summaries). A malformed file is a `LoadError` naming the
 * record number.
 */
export async function* readCsvRecords(csv: Readable, key = 'csv'): AsyncGenerator<CsvRecord> {
  let record: CsvRecord = [];
  let field = '';
  let quoted = false; // the current field began with a quote
  let inQuotes = false; // inside a quoted section, where , and LF are data
  let pendingQuote = false; // saw " inside quotes: either an escaped "" or the closing quote
  let fieldStarted = false;
  let number = 1;
  const endField = () => {
    record.push(quoted || fieldStarted ? field : null);
    field = '';
    quoted = false;
    fieldStarted = false;
  };
  // A chunk may end inside a multi-byte character; the decoder carries it to the next one.
  const decoder = new StringDecoder('utf8');
  for await (const chunk of csv) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (pendingQuote) {
        pendingQuote = false;
        if (c === '"') {
          field += '"';
          i++;
          continue;
        }
        inQuotes = false; // that quote closed the field; `c` is handled below
      }
      if (inQuotes) {
        // Copy the run of plain characters at once.
        const next = text.indexOf('"', i);
        if (next === -1) {
          field += text.slice(i);
          i = text.length;
        } else {
          field += text.slice(i, next);
          pendingQuote = true;
          i = next + 1;
        }
        continue;
      }
      if (c === ',') {
        endField();
      } else if (c === '\n') {
        endField();
        yield record;
        record = [];
        number++;
      } else if (c === '"') {
        if (fieldStarted || quoted) throw new LoadError(`malformed CSV in ${key}: stray quote in record ${number}`, { key, line: number, fault: 'file' });
        quoted = true;
        inQuotes = true;
      } else {
        if (quoted) throw new LoadError(`malformed CSV in ${key}: text after a closing quote in record ${number}`, { key, line: number, fault: 'file' });
        const next = nextDelimiter(text, i);
        field += text.slice(i, next);
        fieldStarted = true;
        i = next;
        continue;
      }
      i++;
    }
  }
  if (pendingQuote) inQuotes = false;
  if (inQuotes) throw new LoadError(`malformed CSV in ${key}: unterminated quoted field in record ${number}`, { key, line: number, fault: 'file' });
  if (fieldStarted || quoted || record.length > 0) {
    endField();
    yield record;
  }
}

/** Index of the next `,`, LF or `"` from `from`, or the end of `text`. */
function nextDelimiter(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 44 || c === 10 || c === 34) return j;
  }
  return text.length;
}

/**
 * Counts the fields of the first record of `csv` by reading only as far as its end, and returns
 * a stream of the same bytes from the start. `fields` is undefined for an empty file.
 */
export async function peekFieldCount(csv: Readable): Promise<{ fields: number | undefined; csv: Readable }> {
  const chunks = csv[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const seen: Buffer[] = [];
  let fields = 1;
  let inQuotes = false;
  let ended = false;
  let found: number | undefined;
  while (found === undefined) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      found = seen.some((b) => b.length > 0) ? fields : undefined;
      break;
    }
    seen.push(next.value);
    for (const byte of next.value) {
      // A doubled quote inside a quoted field toggles twice: the count only needs in/out.
      if (byte === 34) inQuotes = !inQuotes;
      else if (!inQuotes && byte === 44) fields++;
      else if (!inQuotes && byte === 10) {
        found = fields;
        break;
      }
    }
  }
  const replay = async function* () {
    yield* seen;
    if (ended) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  };
  const out = Readable.from(replay(), { objectMode: false });
  // Destroying the replay (a failed COPY) must close the file under it.
  out.once('close', () => csv.destroy());
  return { fields: found, csv: out };
}
