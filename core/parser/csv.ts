import { ParseError } from '../errors.js';
import type { RowValues } from '../model/flatten-event.js';

const special = /[",\r\n\0]/;

/**
 * One non-NULL value as a CSV field: as it is unless it holds a quote, comma, CR or LF, then
 * quoted with quotes doubled; `""` for the empty string. `column` names it in the error for a NUL,
 * which PostgreSQL cannot store.
 */
export function csvField(value: string, column: string): string {
  // One scan finds both the rare NUL and the characters that need quoting.
  if (value === '') return '""';
  if (!special.test(value)) return value;
  if (value.includes('\0')) throw new ParseError('value contains a NUL character, which warehouses cannot store', { field: column });
  return `"${value.replaceAll('"', '""')}"`;
}

/**
 * Encodes one row as an RFC 4180 CSV line ending in LF.
 *
 * NULL convention (one for every warehouse): SQL NULL is an unquoted empty field; an empty
 * string is `""`. PostgreSQL `COPY … CSV`, Redshift `COPY … CSV` and SQL Server `FORMAT='CSV'`
 * all read these two the same way. NUL characters cannot be stored by PostgreSQL and are refused.
 */
export function encodeCsvRow(values: RowValues): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) line += ',';
    if (value !== null && value !== undefined) line += csvField(value, String(i));
  }
  return `${line}\n`;
}
