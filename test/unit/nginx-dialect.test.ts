import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { compileLogFormat, nginxDialect, timedLogFormat, timeLocalToUtc, totalTiming, unescapeNginx } from '../../core/parser/dialects/nginx.js';

const ctx = { sourceKey: 'logs/nginx/a.log', lineNumber: 1 };
const combined = nginxDialect('nginx_combined');
const timed = nginxDialect('nginx_timed', timedLogFormat);

function fields(dialect: ReturnType<typeof nginxDialect>, line: string, names: string[]) {
  const records = dialect.reader(names)(line, ctx);
  if (!records) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, records[0]![i]]));
}

describe('nginx dialect', () => {
  it.each([
    [
      'combined line',
      '93.184.216.34 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
      { remote_addr: '93.184.216.34', remote_user: null, time: '2000-10-10 20:55:36', method: 'GET', path: '/apache_pb.gif', query: null, protocol: 'HTTP/1.0', status: '200', body_bytes_sent: '2326', http_referer: 'http://www.example.com/start.html', http_user_agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)' },
    ],
    [
      'IPv6 client, user, query string',
      '2001:db8::ff00:42:8329 - bob [01/Jan/2026:00:00:00 +0000] "POST /api/v1/tasks?x=1&y=%20 HTTP/2.0" 201 17 "-" "curl/8.5.0"',
      { remote_addr: '2001:db8::ff00:42:8329', remote_user: 'bob', time: '2026-01-01 00:00:00', method: 'POST', path: '/api/v1/tasks', query: 'x=1&y=%20', protocol: 'HTTP/2.0', http_referer: null },
    ],
    [
      'escaped quote and UTF-8 bytes in the user agent',
      '10.0.0.1 - - [29/Feb/2024:23:59:59 +0530] "GET / HTTP/1.1" 200 0 "-" "say \\x22hi\\x22 caf\\xC3\\xA9"',
      { http_user_agent: 'say "hi" café', time: '2024-02-29 18:29:59', body_bytes_sent: '0' },
    ],
    [
      'request that is not HTTP (TLS handshake on the plain port)',
      '45.1.2.3 - - [23/Nov/2026:10:00:10 +0100] "\\x16\\x03\\x01\\x00" 400 157 "-" "-"',
      { method: null, path: null, status: '400', http_user_agent: null },
    ],
    [
      'HTTP/0.9 request without protocol',
      '45.1.2.3 - - [23/Nov/2026:10:00:10 +0100] "GET /" 400 157 "-" "-"',
      { method: 'GET', path: '/', protocol: null },
    ],
    [
      '$remote_user holding `] [` (Authorization: Basic is the client\'s to choose)',
      '1.2.3.4 - admin] [root [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua"',
      { remote_user: 'admin] [root', time: '2026-11-23 09:00:01', method: 'GET', path: '/a', status: '200' },
    ],
    [
      '$remote_user holding a time of its own',
      '1.2.3.4 - x [01/Jan/1970:00:00:00 +0000] y [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua"',
      { remote_user: 'x [01/Jan/1970:00:00:00 +0000] y', time: '2026-11-23 09:00:01', path: '/a' },
    ],
    [
      '$remote_user holding a time and an escaped quote',
      '1.2.3.4 - x [01/Jan/1970:00:00:00 +0000] \\x22 [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua"',
      { remote_user: 'x [01/Jan/1970:00:00:00 +0000] "', time: '2026-11-23 09:00:01', path: '/a' },
    ],
    [
      'request that is empty',
      '45.1.2.3 - - [23/Nov/2026:10:00:10 +0100] "" 400 0 "-" "-"',
      { request: '', method: null, path: null },
    ],
    [
      'quoted empty field as an empty string and `-` as NULL (a User-Agent sent empty is not one left out)',
      '45.1.2.3 - - [23/Nov/2026:10:00:10 +0100] "GET / HTTP/1.1" 200 0 "" ""',
      { http_referer: '', http_user_agent: '', remote_user: null },
    ],
    [
      'user that is empty (Basic auth of ":pw")',
      '45.1.2.3 -  [23/Nov/2026:10:00:10 +0100] "GET / HTTP/1.1" 200 0 "-" "-"',
      { remote_user: '', http_referer: null, http_user_agent: null },
    ],
  ])('reads a %s', (_what, line, expected) => {
    expect(fields(combined, line, Object.keys(expected))).toEqual(expected);
  });

  it.each([
    ['GET /api/v1/tasks/51  HTTP/1.1', { method: 'GET', path: '/api/v1/tasks/51', query: null, protocol: 'HTTP/1.1' }],
    ['GET /api/v1/tasks/52 HTTP/1.1 ', { method: 'GET', path: '/api/v1/tasks/52', query: null, protocol: 'HTTP/1.1' }],
    ['PATCH  /api/v1/tasks/53?fields=title   HTTP/2.0  ', { method: 'PATCH', path: '/api/v1/tasks/53', query: 'fields=title', protocol: 'HTTP/2.0' }],
    ['GET /a?  HTTP/1.0', { method: 'GET', path: '/a', query: '', protocol: 'HTTP/1.0' }],
    ['GET /index.html  ', { method: 'GET', path: '/index.html', query: null, protocol: null }],
    ['GET /a b HTTP/1.1', { method: 'GET', path: '/a', query: null, protocol: null }],
    ['M-SEARCH * HTTP/1.1', { method: 'M-SEARCH', path: '*', query: null, protocol: 'HTTP/1.1' }],
    ['GET ', { method: 'GET', path: null, query: null, protocol: null }],
    ['get / HTTP/1.1', { method: null, path: null, query: null, protocol: null }],
  ])('splits the request line %j as nginx reads it: method, URI, protocol, spaces between them in none', (request, expected) => {
    const line = `1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "${request}" 400 0 "-" "-"`;
    expect(fields(combined, line, ['request', ...Object.keys(expected)])).toEqual({ request, ...expected });
  });

  it.each([
    ['a line with timings', '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.012 0.010', { request_time: '0.012', upstream_response_time: '0.010' }],
    ['several upstreams, summed', '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 502 5 "-" "ua" 3.001 1.000, 2.000 : 0.001', { upstream_response_time: '3.001' }],
    ['no upstream', '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.000 -', { request_time: '0.000', upstream_response_time: null }],
    ['$remote_user holding `] [`', '1.2.3.4 - a] [b] [c [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.012 0.010', { remote_user: 'a] [b] [c', request_time: '0.012', upstream_response_time: '0.010' }],
  ])('reads timings: %s', (_what, line, expected) => {
    expect(fields(timed, line, Object.keys(expected))).toEqual(expected);
  });

  it.each([
    ['another format (timed line for combined)', combined, '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua" 0.012 0.010'],
    ['a combined line for the timed format', timed, '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 200 5 "-" "ua"'],
    ['a status that is not three digits', combined, '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 2000 5 "-" "ua"'],
    ['a broken time', combined, '1.2.3.4 - - [23/Nov/2026 10:00:01] "GET /a HTTP/1.1" 200 5 "-" "ua"'],
    ['JSON', combined, '{"status": 200}'],
    ['a truncated line', combined, '1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET /a HTT'],
  ])('does not claim %s', (_what, dialect, line) => {
    expect(dialect.reader(dialect.fields!)(line, ctx)).toBeUndefined();
  });

  it('compiles custom formats with $time_iso8601, ${var} and a trailing variable', () => {
    const dialect = nginxDialect('custom', '${remote_addr}|$time_iso8601|$status|$request_time|$http_x_request_id');
    expect(fields(dialect, '::1|2026-11-23T10:00:00+01:00|200|0.5|abc|def', ['remote_addr', 'time', 'status', 'request_time', 'http_x_request_id'])).toEqual({
      remote_addr: '::1', time: '2026-11-23 09:00:00', status: '200', request_time: '0.5', http_x_request_id: 'abc|def',
    });
    expect(compileLogFormat('$a $b').variables).toEqual(['a', 'b']);
  });

  it.each([
    ['two variables with nothing between them', '$remote_addr$status'],
    ['no variables', 'just text'],
    ['a repeated variable', '$status $status'],
  ])('refuses a log_format with %s', (_what, format) => {
    expect(() => compileLogFormat(format)).toThrow(ConfigError);
  });

  it('replaces NUL and invalid UTF-8 with U+FFFD and counts each value so changed, not a U+FFFD sent as such', () => {
    const context = { ...ctx, replaced: 0 };
    const reader = combined.reader(['remote_user', 'method', 'path', 'query', 'status', 'http_user_agent']);
    const line = '1.2.3.4 - a\\x00b [23/Nov/2026:10:00:01 +0100] "GET /t/54\\x00\\x00?q=caf\\xE9 HTTP/1.1" 400 0 "\\x00" "ok \\xEF\\xBF\\xBD \\xC3\\xA9"';
    expect(reader(line, context)).toEqual([['a\uFFFDb', 'GET', '/t/54\uFFFD\uFFFD', 'q=caf\uFFFD', '400', 'ok \uFFFD é']]);
    // $remote_user, $request and $http_referer (read or not: the line holds them).
    expect(context.replaced).toBe(3);
    expect(reader('1.2.3.4 - - [23/Nov/2026:10:00:01 +0100] "GET / HTTP/1.1" 200 0 "-" "caf\\xC3\\xA9 \\x22q\\x22"', context)).toEqual([[null, 'GET', '/', null, '200', 'café "q"']]);
    expect(context.replaced).toBe(3);
  });

  it('converts times, timings and escapes', () => {
    expect(timeLocalToUtc('01/Jan/2026:00:30:00 +0100')).toBe('2025-12-31 23:30:00');
    expect(timeLocalToUtc('01/Foo/2026:00:30:00 +0100')).toBeNull();
    expect(totalTiming('0.5')).toBe('0.5');
    expect(totalTiming('-, -')).toBeNull();
    expect(unescapeNginx('a\\x5Cb\\xZZ')).toBe('a\\b\\xZZ');
    expect(unescapeNginx('\\x16\\x03\\x01\\x00\\xA5')).toBe('\x16\x03\x01\uFFFD\uFFFD');
    expect(unescapeNginx('\\x00')).toBe('\uFFFD');
  });
});
