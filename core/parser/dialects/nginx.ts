import { isUtf8 } from 'node:buffer';
import { ConfigError } from '../../errors.js';
import type { Dialect, FieldValue, LineContext, RecordValues } from '../dialect.js';

/** nginx's predefined `combined` format. */
export const combinedLogFormat = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** `combined` plus request and upstream timings, the usual `log_format main_timed`. */
export const timedLogFormat = `${combinedLogFormat} $request_time $upstream_response_time`;

// Variables whose shape is known are checked strictly, so a line in a different format fails
// fast instead of being mis-read; the rest take everything up to the next literal text.
const timing = '-|[\\d.]+(?:(?:, | : )(?:[\\d.]+|-))*';
const knownShapes: Record<string, string> = {
  status: '\\d{3}',
  body_bytes_sent: '\\d+|-',
  bytes_sent: '\\d+|-',
  request_length: '\\d+|-',
  request_time: '\\d+(?:\\.\\d+)?|-',
  upstream_response_time: timing,
  upstream_connect_time: timing,
  upstream_header_time: timing,
  time_local: '\\d{2}/[A-Za-z]{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}',
  time_iso8601: '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:Z|[+-]\\d{2}:\\d{2})',
  msec: '\\d+(?:\\.\\d+)?',
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const timingVariables = new Set(['upstream_response_time', 'upstream_connect_time', 'upstream_header_time']);
const months: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
/** Fields derived from `$request` and the time variables, after the format's own variables. */
const derivedFields = ['method', 'path', 'query', 'protocol', 'time'] as const;

interface Step {
  /** Literal text that ends the variable's value; '' = the rest of the line. */
  until: string;
  shape: RegExp | undefined;
  /** Multi-upstream timings hold `, ` and ` : ` inside their value. */
  multi: boolean;
  /**
   * For a free-text variable followed by one of known shape: that shape plus its own end text,
   * sticky. Free text may hold the separator (`$remote_user` is the client's to choose, so it
   * can be `a] [b`): the value ends at the first separator after which the next value fits.
   */
  anchor: RegExp | undefined;
}

/** A compiled `log_format`: its variable names in order and a scanner returning their raw values. */
export interface CompiledLogFormat {
  variables: string[];
  /** Raw values in variable order, in an array of `size` slots (room for derived fields). */
  scan(line: string, size?: number): string[] | undefined;
}

/**
 * Compiles a `log_format` string. The scanner walks the format's literal separators with
 * `indexOf` and checks known variables' shapes, so a free-text variable ends where the next one's
 * shape fits; it answers `undefined` unless the whole line fits.
 */
export function compileLogFormat(format: string): CompiledLogFormat {
  const token = /\$(?:\{(\w+)\}|(\w+))/g;
  const pieces: ({ literal: string } | { variable: string })[] = [];
  let last = 0;
  for (let m = token.exec(format); m !== null; m = token.exec(format)) {
    if (m.index > last) pieces.push({ literal: format.slice(last, m.index) });
    pieces.push({ variable: (m[1] ?? m[2])! });
    last = m.index + m[0].length;
  }
  if (last < format.length) pieces.push({ literal: format.slice(last) });
  const variables: string[] = [];
  const steps: Step[] = [];
  const lead = pieces[0] && 'literal' in pieces[0] ? pieces[0].literal : '';
  pieces.forEach((piece, i) => {
    if ('literal' in piece) return;
    const next = pieces[i + 1];
    if (next && 'variable' in next) throw new ConfigError([{ key: 'log_format', reason: `$${piece.variable} and $${next.variable} have no separator between them` }]);
    if (variables.includes(piece.variable)) throw new ConfigError([{ key: 'log_format', reason: `$${piece.variable} appears twice` }]);
    variables.push(piece.variable);
    const shape = knownShapes[piece.variable];
    steps.push({ until: next && 'literal' in next ? next.literal : '', shape: shape === undefined ? undefined : new RegExp(`^(?:${shape})$`), multi: timingVariables.has(piece.variable), anchor: undefined });
  });
  steps.forEach((step, i) => {
    const next = steps[i + 1];
    const nextShape = knownShapes[variables[i + 1] ?? ''];
    if (step.shape === undefined && next !== undefined && nextShape !== undefined) step.anchor = new RegExp(`(?:${nextShape})${next.until === '' ? '$' : escapeRegExp(next.until)}`, 'y');
  });
  if (variables.length === 0) throw new ConfigError([{ key: 'log_format', reason: 'has no $variables' }]);
  const scan = (line: string, size = steps.length): string[] | undefined => {
    if (!line.startsWith(lead)) return undefined;
    let pos = lead.length;
    const values: string[] = new Array(size);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      let end: number;
      if (step.anchor !== undefined) {
        const anchor = step.anchor;
        end = line.indexOf(step.until, pos);
        for (;;) {
          if (end < 0) return undefined;
          anchor.lastIndex = end + step.until.length;
          if (anchor.test(line)) break;
          end = line.indexOf(step.until, end + 1);
        }
        // The anchor has read the next variable too, shape and end text included.
        values[i] = line.slice(pos, end);
        values[++i] = line.slice(end + step.until.length, anchor.lastIndex - steps[i]!.until.length);
        pos = anchor.lastIndex;
        continue;
      }
      if (step.until === '') end = line.length;
      else {
        end = line.indexOf(step.until, pos);
        if (step.multi) {
          while (end > 0 && (line.charCodeAt(end - 1) === 44 /* , */ || line.startsWith(' : ', end))) end = line.indexOf(step.until, line.startsWith(' : ', end) ? end + 3 : end + 1);
        }
        if (end < 0) return undefined;
      }
      const value = line.slice(pos, end);
      if (step.shape !== undefined && !step.shape.test(value)) return undefined;
      values[i] = value;
      pos = end + step.until.length;
    }
    return pos === line.length ? values : undefined;
  };
  return { variables, scan };
}

/** Set when an unescaped value had characters no warehouse can store replaced. */
interface ReplacedFlag {
  replaced: boolean;
}

/** One run of `\xHH` escapes as text: a multi-byte UTF-8 character spans several of them. */
function decodeRun(run: string, flag: ReplacedFlag | undefined): string {
  if (run.length === 4 && run.charCodeAt(2) < 56 /* '8': ASCII */) {
    const code = parseInt(run.slice(2), 16);
    if (code !== 0) return String.fromCharCode(code);
    if (flag) flag.replaced = true;
    return '\uFFFD';
  }
  const bytes = Buffer.from(run.replaceAll('\\x', ''), 'hex');
  const text = bytes.toString('utf8'); // invalid UTF-8 becomes U+FFFD here
  if (isUtf8(bytes) && !text.includes('\0')) return text;
  if (flag) flag.replaced = true;
  return text.replaceAll('\0', '\uFFFD');
}

/**
 * Undoes nginx's default log escaping: `"`, `\` and bytes outside printable ASCII become `\xHH`.
 * What no warehouse can store, NUL and invalid UTF-8 (a client's Latin-1 `\xE9`), becomes U+FFFD,
 * as the collector does with its text (`flag.replaced` tells).
 */
export function unescapeNginx(value: string, flag?: ReplacedFlag): string {
  if (!value.includes('\\x')) return value;
  return value.replace(/(?:\\x[0-9A-Fa-f]{2})+/g, (run) => decodeRun(run, flag));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function utcText(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `10/Oct/2000:13:55:36 -0700` → `2000-10-10 20:55:36` (UTC). */
export function timeLocalToUtc(value: string): string | null {
  const month = months[value.slice(3, 6)];
  if (month === undefined) return null;
  const sign = value[21] === '-' ? -1 : 1;
  const offsetMin = sign * (Number(value.slice(22, 24)) * 60 + Number(value.slice(24, 26)));
  const ms = Date.UTC(Number(value.slice(7, 11)), month, Number(value.slice(0, 2)), Number(value.slice(12, 14)), Number(value.slice(15, 17)), Number(value.slice(18, 20)));
  return Number.isNaN(ms) ? null : utcText(ms - offsetMin * 60_000);
}

/** Sums a multi-upstream timing (`0.012, 0.034 : 0.100`) to one figure; `-` alone is null. */
export function totalTiming(value: string): string | null {
  if (!value.includes(',') && !value.includes(':')) return value;
  let total = 0;
  let any = false;
  for (const part of value.split(/, | : /)) {
    if (part === '-') continue;
    total += Number(part);
    any = true;
  }
  return any ? total.toFixed(3) : null;
}

const noRequest: [FieldValue, FieldValue, FieldValue, FieldValue] = [null, null, null, null];

/**
 * `$request` split into method, path, query and protocol the way nginx 1.22 reads a request line:
 * a method of `A-Z`, `_` and `-`, one or more spaces, the URI up to the next space, then spaces and
 * the protocol (`HTTP/…`), if any. Spaces around the URI are not part of it: nginx accepts
 * `GET /a  HTTP/1.1 ` and logs the line as the client sent it. All null unless it starts with a method.
 */
function splitRequest(request: FieldValue | undefined): [FieldValue, FieldValue, FieldValue, FieldValue] {
  if (request === null || request === undefined) return noRequest;
  const length = request.length;
  let methodEnd = 0;
  for (; methodEnd < length; methodEnd++) {
    const c = request.charCodeAt(methodEnd);
    if (c === 32) break;
    if ((c < 65 || c > 90) && c !== 95 /* _ */ && c !== 45 /* - */) return noRequest;
  }
  if (methodEnd === 0 || methodEnd === length) return noRequest;
  const method = request.slice(0, methodEnd);
  let uriStart = methodEnd + 1;
  while (uriStart < length && request.charCodeAt(uriStart) === 32) uriStart++;
  if (uriStart === length) return [method, null, null, null];
  let uriEnd = request.indexOf(' ', uriStart);
  let protocol: FieldValue = null;
  if (uriEnd < 0) uriEnd = length;
  else {
    let protocolStart = uriEnd + 1;
    while (protocolStart < length && request.charCodeAt(protocolStart) === 32) protocolStart++;
    if (request.startsWith('HTTP/', protocolStart)) {
      const protocolEnd = request.indexOf(' ', protocolStart);
      protocol = protocolEnd < 0 ? request.slice(protocolStart) : request.slice(protocolStart, protocolEnd);
    }
  }
  const q = request.indexOf('?', uriStart);
  if (q < 0 || q > uriEnd) return [method, request.slice(uriStart, uriEnd), null, protocol];
  return [method, request.slice(uriStart, q), request.slice(q + 1, uriEnd), protocol];
}

/**
 * nginx access logs in any `log_format` (default escaping). Fields are the format's variable names
 * (`-` read as NULL, an empty value as an empty string, `\xHH` escapes undone, multi-upstream
 * timings summed), plus `method`, `path`, `query`, `protocol` from `$request` and `time` (UTC)
 * from `$time_local`, `$time_iso8601` or `$msec`.
 */
export function nginxDialect(name: string, format: string = combinedLogFormat): Dialect {
  const { scan, variables } = compileLogFormat(format);
  const fields = [...variables, ...derivedFields.filter((f) => !variables.includes(f))];
  const requestAt = variables.indexOf('request');
  const timeSource = ['time_local', 'time_iso8601', 'msec'].map((v) => [v, variables.indexOf(v)] as const).find(([, i]) => i >= 0);
  return {
    name,
    fields,
    reader(wanted) {
      // Per wanted field: the variable it is read from, or which derived field it is (-1 - n), or absent.
      const sources = wanted.map((f) => (variables.includes(f) ? variables.indexOf(f) : derivedFields.includes(f as never) ? -1 - derivedFields.indexOf(f as never) : undefined));
      const timing = wanted.map((f) => timingVariables.has(f));
      const needsRequest = sources.some((s) => s !== undefined && s <= -1 && s >= -4);
      const needsTime = sources.includes(-5);
      let lastTimeIn = '';
      let lastTimeOut: string | null = null;
      const toUtc = (kind: string, value: string): string | null => {
        if (value === lastTimeIn) return lastTimeOut; // consecutive lines mostly share their second
        lastTimeIn = value;
        if (kind === 'time_local') lastTimeOut = timeLocalToUtc(value);
        else if (kind === 'msec') lastTimeOut = utcText(Math.floor(Number(value) * 1000));
        else lastTimeOut = utcText(Date.parse(value));
        return lastTimeOut;
      };
      // nginx writes `-` for a value that is not there and "" for one that is there but empty.
      const variable = (raw: string): FieldValue => (raw === '-' ? null : raw);
      const flag: ReplacedFlag = { replaced: false };
      // Every variable of an escaped line is unescaped, read or not, so each value with characters
      // replaced is counted once, whichever fields the rules read.
      const unescapeAll = (m: string[], context: LineContext): void => {
        for (let v = 0; v < variables.length; v++) {
          const raw = m[v]!;
          if (raw === '-' || !raw.includes('\\x')) continue;
          flag.replaced = false;
          m[v] = unescapeNginx(raw, flag);
          if (flag.replaced) context.replaced = (context.replaced ?? 0) + 1;
        }
      };
      return (line, context) => {
        const m = scan(line);
        if (m === undefined) return undefined;
        if (line.includes('\\x')) unescapeAll(m, context);
        const request = needsRequest ? splitRequest(requestAt >= 0 ? variable(m[requestAt]!) : null) : undefined;
        const values: RecordValues = new Array(wanted.length);
        for (let i = 0; i < wanted.length; i++) {
          const source = sources[i];
          if (source === undefined) values[i] = undefined;
          else if (source >= 0) {
            const value = variable(m[source]!);
            values[i] = timing[i] && value !== null ? totalTiming(value) : value;
          } else if (source === -5) values[i] = timeSource && needsTime ? toUtc(timeSource[0], m[timeSource[1]]!) : null;
          else values[i] = request![-1 - source]!;
        }
        return [values];
      };
    },
  };
}
