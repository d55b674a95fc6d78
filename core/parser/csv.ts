import { ParseError } from '../errors.js';
import type { RowValues } from '../model/flatten-event.js';

const special = /[",\r\n\0]/;

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
    if (value === null || value === undefined) continue;
    // One scan finds both the rare NUL and the characters that need quoting.
    if (value === '') line += '""';
    else if (!special.test(value)) line += value;
    else if (value.includes('\0')) throw new ParseError('value contains a NUL character, which warehouses cannot store', { field: String(i) });
    else line += `"${value.replaceAll('"', '""')}"`;
  }
  return `${line}\n`;
}
