import { describe, expect, it } from 'vitest';
import type { HttpRequestMessage } from '../../core/http/http-message.js';
import type { RunViewData } from '../../core/run-view/run-view-data.js';
import { escapeHtml, runViewHtml } from '../../core/run-view/run-view-html.js';
import { isRunViewPath, operatorRefusal, runViewResponse } from '../../core/run-view/run-view-routes.js';

const request = (path: string, headers: Record<string, string> = {}, remoteAddress = '203.0.113.9'): HttpRequestMessage => ({ method: 'GET', path, headers, body: new Uint8Array(), remoteAddress });

function data(date: string): RunViewData {
  return {
    date,
    generated_at: `${date}T12:00:00.000Z`,
    failures: [{ kind: 'run', at: `${date}T03:00:00.000Z`, what: 'load:events (attempt 2)', message: 'load_failed: <script>alert(1)</script>', log_excerpt: 'parsed/events/a.csv.gz', keys: ['parsed/events/a.csv.gz'] }],
    runs: [{ run_id: 'r1', stage: 'load', target: 'events', attempt: 2, started_at: `${date}T03:00:00.000Z`, finished_at: `${date}T03:00:05.000Z`, status: 'failed', rows: null, error: 'x', log_excerpt: null }],
    idle_load_runs: 7,
    backlog: { parse: { prefixes: [], count: 0, oldest_age_s: null, oldest_key: null }, unloaded: [], pending: 0 },
    quality: [],
    rejections: [{ status: 401, reason: 'signature', requests: 4 }],
    events_per_hour: [{ hour: `${date}T00:00:00.000Z`, events: 1200 }, { hour: `${date}T01:00:00.000Z`, events: 0 }],
    freshness: [],
    volume_rule: 'rule',
  };
}

describe('run view routes', () => {
  it('are answered to this machine only when no token is set (404 to others: off)', () => {
    const access = { token: undefined, loopbackWithoutToken: true };
    expect(operatorRefusal(request('/', {}, '127.0.0.1'), access)).toBeUndefined();
    expect(operatorRefusal(request('/', {}, '::ffff:127.0.0.1'), access)).toBeUndefined();
    expect(operatorRefusal(request('/metrics'), access)?.status).toBe(404);
    expect(operatorRefusal(request('/', {}, '127.0.0.1'), { token: undefined, loopbackWithoutToken: false })?.status).toBe(404);
  });

  it('need the bearer token when one is set, from every peer: wrong or missing is 401', () => {
    const access = { token: 's3cret-token', loopbackWithoutToken: true };
    expect(operatorRefusal(request('/', { authorization: 'Bearer s3cret-token' }), access)).toBeUndefined();
    const wrong = operatorRefusal(request('/', { authorization: 'Bearer s3cret-tokeN' }), access);
    expect(wrong?.status).toBe(401);
    expect(wrong?.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(operatorRefusal(request('/', { authorization: 'Bearer s3cret' }), access)?.status).toBe(401);
    expect(operatorRefusal(request('/', {}, '127.0.0.1'), access)?.status).toBe(401);
  });

  it('route /, /runs/<date> to HTML and /api/runs[/<date>] to JSON, today when no date; a bad date is 400', async () => {
    const asked: string[] = [];
    const show = async (date: string) => (asked.push(date), data(date));
    const now = new Date('2026-11-25T10:00:00Z');
    expect(isRunViewPath('/api/v1/track')).toBe(false);
    expect((await runViewResponse(request('/'), show, now)).headers['content-type']).toMatch(/^text\/html/);
    const json = await runViewResponse(request('/api/runs/2026-11-20'), show, now);
    expect(JSON.parse(json.body)).toMatchObject({ date: '2026-11-20', idle_load_runs: 7 });
    await runViewResponse(request('/api/runs'), show, now);
    expect(asked).toEqual(['2026-11-25', '2026-11-20', '2026-11-25']);
    const bad = await runViewResponse(request('/runs/yesterday'), show, now);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/not a date/);
  });

  it('escapes what the page shows: an error text cannot inject markup', () => {
    const html = runViewHtml(data('2026-11-25'));
    expect(html).not.toContain('<script>');
    expect(html).toContain(escapeHtml('<script>alert(1)</script>'));
    expect(html).toContain('7 load ticks found nothing');
    expect(html).toMatch(/<article class="failure" data-kind="run">/);
  });

  it('shows events per hour as a table, and draws charts only where the assets are served', () => {
    const plain = runViewHtml(data('2026-11-25'));
    expect(plain).toMatch(/<table class="hours"><tr><th>hour<\/th><th>00<\/th><th>01<\/th><\/tr><tr><td>events<\/td><td>1,200<\/td><td>0<\/td><\/tr><\/table>/);
    expect(plain).not.toContain('uplot');
    // A source named to end the script element cannot: the figures' JSON escapes "<".
    const day = { date: '2026-11-24', inputs: 1, lines: 5, accepted: 4, ignored: 0, rejected: 1, verdict: 'fail' as const, median: 10 };
    const charted = runViewHtml({ ...data('2026-11-25'), quality: [{ source: 'x</script><script>alert(1)//', days: [day] }] }, '/api/ops', { charts: true });
    expect(charted).toContain('<link rel="stylesheet" href="/api/ops/assets/uplot.min.css">');
    expect(charted).toContain('<script src="/api/ops/assets/uplot.min.js"></script>');
    const figures = /<script type="application\/json" id="chart-data">(.*?)<\/script>/.exec(charted)![1]!;
    expect(figures).not.toContain('<');
    expect(JSON.parse(figures)).toEqual({
      quality: [{ source: 'x</script><script>alert(1)//', days: [{ date: '2026-11-24', lines: 5, accepted: 4, rejected: 1, anomaly: true }] }],
      hours: [{ hour: '2026-11-25T00:00:00.000Z', events: 1200 }, { hour: '2026-11-25T01:00:00.000Z', events: 0 }],
    });
    expect(charted.match(/<script>alert/g)).toBeNull();
  });
});
