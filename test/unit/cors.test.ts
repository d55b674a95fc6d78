import { describe, expect, it } from 'vitest';
import { readConfig } from '../../core/config.js';
import { ConfigError, type ConfigProblem } from '../../core/errors.js';
import { answerWithCors, corsOff, readCorsOrigins, type CorsPolicy } from '../../core/http/cors.js';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';

const app = 'https://app.example.com';

function preflight(origin: string): HttpRequestMessage {
  return {
    method: 'OPTIONS',
    path: '/api/v1/track',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-hamustro-signature,x-hamustro-time' },
    body: new Uint8Array(0),
  };
}

function post(origin?: string): HttpRequestMessage {
  return { method: 'POST', path: '/api/v1/track', headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) }, body: new Uint8Array(0) };
}

/** Stands for the collector: records what reached it. */
function collector(response: HttpResponseMessage = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"stored":1}' }) {
  const seen: HttpRequestMessage[] = [];
  return { seen, handle: async (request: HttpRequestMessage) => (seen.push(request), response) };
}

describe('CORS for browser clients', () => {
  it('is off by default: a preflight reaches the collector (which answers 405) and no CORS header is added', async () => {
    expect(readConfig({}).cors).toEqual(corsOff);
    const c = collector({ status: 405, headers: { allow: 'POST' }, body: '{"error":"method not allowed: use POST"}' });
    const response = await answerWithCors(corsOff, preflight(app), c.handle);
    expect(response.status).toBe(405);
    expect(c.seen).toHaveLength(1);
    const actual = await answerWithCors(corsOff, post(app), c.handle);
    expect(Object.keys(actual.headers).filter((h) => h.startsWith('access-control'))).toEqual([]);
  });

  it('answers an allowed origin\'s preflight 204 with POST and the signature headers, without calling the collector', async () => {
    const policy: CorsPolicy = { origins: [app, 'http://localhost:5173'] };
    const c = collector();
    const response = await answerWithCors(policy, preflight(app), c.handle);
    expect(c.seen).toEqual([]);
    expect(response).toEqual({
      status: 204,
      headers: {
        'access-control-allow-origin': app,
        vary: 'Origin',
        'access-control-allow-methods': 'POST, GET',
        'access-control-allow-headers': 'content-type, content-encoding, x-hamustro-time, x-hamustro-signature',
        'access-control-max-age': '7200',
      },
      body: '',
    });
  });

  it('refuses a preflight from an origin not listed with 403 naming the origin and the setting', async () => {
    const response = await answerWithCors({ origins: [app] }, preflight('https://evil.example'), collector().handle);
    expect(response.status).toBe(403);
    expect(JSON.parse(response.body)).toEqual({ error: 'origin https://evil.example is not allowed: add it to FERRY_CORS_ORIGINS' });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('adds the allowed origin and the readable Retry-After to the actual request\'s response, keeping the collector\'s headers', async () => {
    const c = collector({ status: 503, headers: { 'content-type': 'application/json', 'retry-after': '5' }, body: '{"error":"x"}' });
    const response = await answerWithCors({ origins: [app] }, post(app), c.handle);
    expect(response.status).toBe(503);
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      'retry-after': '5',
      'access-control-allow-origin': app,
      vary: 'Origin',
      'access-control-expose-headers': 'retry-after',
    });
  });

  it('with *, answers any origin with the wildcard (no Vary), and leaves requests without Origin (apps, servers) alone', async () => {
    const any: CorsPolicy = { origins: ['*'] };
    const response = await answerWithCors(any, preflight('https://anyone.example'), collector().handle);
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers.vary).toBeUndefined();
    const server = await answerWithCors(any, post(), collector().handle);
    expect(server.headers).toEqual({ 'content-type': 'application/json' });
  });

  it('passes a disallowed origin\'s actual request on without CORS headers (the browser then hides the answer)', async () => {
    const c = collector();
    const response = await answerWithCors({ origins: [app] }, post('https://evil.example'), c.handle);
    expect(c.seen).toHaveLength(1);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an OPTIONS without Access-Control-Request-Method is not a preflight: the collector answers it', async () => {
    const c = collector({ status: 405, headers: {}, body: '' });
    const request = { ...preflight(app), headers: { origin: app } };
    expect((await answerWithCors({ origins: [app] }, request, c.handle)).status).toBe(405);
  });

  it.each([
    ['https://app.example.com/', 'trailing slash'],
    ['https://app.example.com/page', 'path'],
    ['app.example.com', 'no scheme'],
    ['ftp://files.example.com', 'not http(s)'],
  ])('refuses FERRY_CORS_ORIGINS entry %s (%s), naming the key', (entry) => {
    const problems: ConfigProblem[] = [];
    readCorsOrigins(`${app}, ${entry}`, problems);
    expect(problems).toEqual([{ key: 'FERRY_CORS_ORIGINS', reason: expect.stringContaining(`"${entry}" is not an origin`) }]);
    expect(() => readConfig({ FERRY_CORS_ORIGINS: entry })).toThrow(ConfigError);
  });

  it('reads a comma-separated list, and * alone when * is among them', () => {
    expect(readConfig({ FERRY_CORS_ORIGINS: ` ${app} , http://localhost:5173,` }).cors).toEqual({ origins: [app, 'http://localhost:5173'] });
    expect(readConfig({ FERRY_CORS_ORIGINS: `${app},*` }).cors).toEqual({ origins: ['*'] });
  });
});
