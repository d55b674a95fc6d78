import { ParseError } from '../errors.js';
import { storableText } from '../model/storable-text.js';
import type { ColumnDefinition } from '../model/table-definition.js';
import { formatUtcTimestamp } from '../model/timestamps.js';
import type { FieldValue } from './dialect.js';

const warehouseTimestamp = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$/;
const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const integer = /^-?\d+$/;
const decimal = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const maxBigint = 9223372036854775807n;

function reject(column: ColumnDefinition, value: string, expected: string): never {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  throw new ParseError(`column ${column.name}: "${shown}" is not ${expected}`, { field: column.name });
}

function toTimestamp(column: ColumnDefinition, value: string): string {
  if (warehouseTimestamp.test(value)) return value;
  let ms = Number.NaN;
  if (isoTimestamp.test(value)) ms = Date.parse(value);
  else if (decimal.test(value)) {
    // Epoch numbers: seconds up to year 5138, milliseconds beyond (how loggers write them).
    const n = Number(value);
    ms = Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  if (Number.isNaN(ms) || ms < -62135596800000 || ms > 253402300799999) reject(column, value, 'a timestamp (ISO 8601, YYYY-MM-DD HH:MM:SS or epoch seconds)');
  return formatUtcTimestamp(new Date(ms));
}

/**
 * The milliseconds of an ISO UTC time with a fraction (`YYYY-MM-DDTHH:MM:SS.f…Z`) as three digits,
 * truncated as `Date.parse` does; undefined for any other shape.
 */
function isoFraction(value: string): string | undefined {
  const last = value.length - 1;
  if (last < 21 || value.charCodeAt(19) !== 46 /* . */ || value.charCodeAt(last) !== 90 /* Z */ || value.charCodeAt(10) !== 84 /* T */) return undefined;
  for (let i = 20; i < last; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return last - 20 >= 3 ? value.slice(20, 23) : value.slice(20, last).padEnd(3, '0');
}

/** Converts one field value to a column's load text (or null); made once per column. */
export type ColumnConverter = (value: FieldValue | undefined) => string | null;

/** A 64-bit integer as plain decimal text: leading zeros (`/tasks/000042`) dropped, the range checked on the digits that count. */
function checkBigint(column: ColumnDefinition, value: string): string {
  if (!integer.test(value)) reject(column, value, 'a 64-bit integer');
  const sign = value.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  let start = sign;
  while (start < value.length - 1 && value.charCodeAt(start) === 48 /* 0 */) start++;
  const digits = value.length - start;
  if (digits > 19 || (digits === 19 && (BigInt(value) > maxBigint || BigInt(value) < -maxBigint - 1n))) reject(column, value, 'a 64-bit integer');
  if (start === sign) return value;
  const rest = value.slice(start);
  return sign === 1 && rest !== '0' ? `-${rest}` : rest;
}

function checkDouble(column: ColumnDefinition, value: string): string {
  if (!decimal.test(value)) reject(column, value, 'a number');
  return value;
}

/**
 * A `\u` escape that may decode to NUL or a lone surrogate, which no warehouse stores (PostgreSQL's
 * jsonb refuses both escapes). Text without one needs no closer look.
 */
export const unstorableEscape = /\\u(?:0000|[dD][89a-fA-F])/;

/** Whether parsed JSON holds no NUL or lone surrogate in any string or key. */
function storableJson(value: unknown): boolean {
  if (typeof value === 'string') return storableText(value) === value;
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(storableJson);
  return Object.entries(value).every(([key, item]) => storableText(key) === key && storableJson(item));
}

/**
 * Text as a JSON column stores it: as it is when it is JSON, else as a JSON string. JSON whose
 * escapes decode to what no warehouse stores (`{"a":"\u0000"}`) is kept as a JSON string of its
 * text too, whole, instead of making the file's load fail.
 */
export function toJsonText(value: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return JSON.stringify(value);
  }
  if (value.includes('\\u') && unstorableEscape.test(value) && !storableJson(parsed)) return JSON.stringify(value);
  return value;
}

/**
 * The converter from a field value to the text a column of `column.type` is loaded from, the same
 * way for every warehouse: timestamps as UTC `YYYY-MM-DD HH:MM:SS[.ffffff]`, numbers as plain
 * decimal text, JSON as JSON text (a value that is not JSON is stored as a JSON string). It
 * throws a `ParseError` naming the column when the value does not fit, or when a required column
 * is empty. `jsonText`: the values are known to be JSON text already (a dialect encoded them).
 */
export function columnConverter(column: ColumnDefinition, options: { jsonText?: boolean } = {}): ColumnConverter {
  const empty = (): null => {
    if (column.required) throw new ParseError(`column ${column.name} is required but has no value`, { field: column.name });
    return null;
  };
  switch (column.type) {
    case 'text':
      return (value) => (value === null || value === undefined ? empty() : value);
    case 'bigint':
      return (value) => (value === null || value === undefined || value === '' ? empty() : checkBigint(column, value));
    case 'double':
      return (value) => (value === null || value === undefined || value === '' ? empty() : checkDouble(column, value));
    case 'json':
      if (options.jsonText) return (value) => (value === null || value === undefined || value === '' ? empty() : value);
      return (value) => (value === null || value === undefined || value === '' ? empty() : toJsonText(value));
    case 'timestamp': {
      // Log lines come in time order, so consecutive rows mostly carry the same time text, or
      // (ISO with milliseconds) the same second: only the fraction is then new.
      let lastIn = '';
      let lastOut = '';
      let secondIn = '';
      let secondOut = '';
      return (value) => {
        if (value === null || value === undefined || value === '') return empty();
        if (value === lastIn) return lastOut;
        const fraction = secondIn !== '' && value.startsWith(secondIn) ? isoFraction(value) : undefined;
        if (fraction !== undefined) lastOut = fraction === '000' ? secondOut : `${secondOut}.${fraction}000`;
        else {
          lastOut = toTimestamp(column, value);
          const whole = isoFraction(value) !== undefined;
          secondIn = whole ? value.slice(0, 19) : '';
          secondOut = whole ? lastOut.slice(0, 19) : '';
        }
        lastIn = value;
        return lastOut;
      };
    }
  }
}

/** `columnConverter(column)` applied to one value. */
export function toColumnValue(column: ColumnDefinition, value: FieldValue | undefined): string | null {
  return columnConverter(column)(value);
}
