import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../core/adapters/memory-blob-store.js';
import { Collector } from '../../core/collector/collector.js';
import { readConfig } from '../../core/config.js';
import { CollectorMetrics, refusalReason, type RefusedRequest } from '../../core/metrics/collector-metrics.js';
import { metricCatalogue } from '../../core/metrics/catalogue.js';
import { PrometheusMetrics } from '../../core/metrics/prometheus-metrics.js';
import { recordLoad, recordParse, timedPuts } from '../../core/metrics/stage-metrics.js';
import { InvalidInputError, SignatureError } from '../../core/errors.js';
import type { Logger } from '../../core/ports/logger.js';
import { fixtureBytes } from '../support/fixtures.js';
import { parseExposition, sampleValue as value } from '../support/prometheus-text.js';

const recordingLogger = () => {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const log = (msg: string, fields: Record<string, unknown> = {}) => lines.push({ msg, fields });
  const logger: Logger = { debug: () => undefined, info: log, warn: log, error: log };
  return { logger, lines };
};

describe('Prometheus metrics', () => {
  it('exports every catalogue metric with its type, in text that reads back', async () => {
    const metrics = new PrometheusMetrics();
    const { samples, types } = parseExposition((await metrics.render()).text);
    for (const [name, def] of Object.entries(metricCatalogue)) expect(types.get(name), name).toBe(def.kind);
    expect(samples.length).toBeGreaterThan(0);
  });

  it('counts collector requests by status and reason, events, bytes and batch sizes by exactly what was sent', async () => {
    const metrics = new PrometheusMetrics();
    const { logger, lines } = recordingLogger();
    const now = new Date('2026-11-23T12:00:00Z');
    const refused: RefusedRequest[] = [];
    const observer = new CollectorMetrics({ metrics, logger, clock: { now: () => now }, maskIp: true, onRefused: (r) => refused.push(r) });
    const store = new MemoryBlobStore();
    const collector = new Collector({ store: timedPuts(store, metrics), clock: { now: () => now }, ids: { next: () => 'ID' }, logger, observer, ...readConfig({ FERRY_BATCH_WINDOW_MS: '1' }).collector });
    const good = fixtureBytes('collections/ios-two-events.json');
    const post = (body: Uint8Array, headers: Record<string, string>) => collector.handle({ method: 'POST', path: '/api/v1/track', headers, body, remoteAddress: '203.0.113.77' });
    for (let i = 0; i < 3; i++) expect((await post(good, { 'content-type': 'application/json' })).status).toBe(200);
    expect((await post(Buffer.from('{"broken'), { 'content-type': 'application/json', 'x-request-id': 'req-1' })).status).toBe(400);
    expect((await post(good, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(good, { 'content-type': 'text/plain' })).status).toBe(415);
    await collector.close();

    const { samples } = parseExposition((await metrics.render()).text);
    expect(value(samples, 'ferry_collector_requests_total', { status: '200', reason: 'ok' })).toBe(3);
    expect(value(samples, 'ferry_collector_requests_total', { status: '400', reason: 'invalid_body' })).toBe(1);
    expect(value(samples, 'ferry_collector_requests_total', { status: '415', reason: 'content_type' })).toBe(2);
    expect(value(samples, 'ferry_collector_events_accepted_total')).toBe(6);
    expect(value(samples, 'ferry_collector_bytes_total', { outcome: 'accepted' })).toBe(3 * good.byteLength);
    expect(value(samples, 'ferry_collector_bytes_total', { outcome: 'refused' })).toBe(8 + 2 * good.byteLength);
    expect(value(samples, 'ferry_collector_batch_events_count')).toBe(3);
    expect(value(samples, 'ferry_collector_batch_events_sum')).toBe(6);
    expect(value(samples, 'ferry_collector_batch_events_bucket', { le: '2' })).toBe(3);
    expect(value(samples, 'ferry_collector_put_seconds_count')).toBeGreaterThanOrEqual(1);
    // The same figures through prom-client's own registry.
    const json = await metrics.registry.getMetricsAsJSON();
    const requests = json.find((m) => m.name === 'ferry_collector_requests_total')!;
    expect(requests.values.reduce((sum, v) => sum + v.value, 0)).toBe(6);

    // Each refused request logged once at info, with its reason and request id, IP masked.
    const logged = lines.filter((l) => l.msg === 'request refused');
    expect(logged.map((l) => [l.fields.status, l.fields.reason])).toEqual([[400, 'invalid_body'], [415, 'content_type'], [415, 'content_type']]);
    expect(logged[0]!.fields.request_id).toBe('req-1');
    expect(logged[0]!.fields.ip).toBe('203.0.113.0');
    expect(refused[0]!.body_prefix).toBe('{"broken');
  });

  it('logs refused requests one by one up to the rate, then counts the rest into one line', () => {
    const metrics = new PrometheusMetrics();
    const { logger, lines } = recordingLogger();
    let now = new Date('2026-11-23T12:00:00Z');
    const observer = new CollectorMetrics({ metrics, logger, clock: { now: () => now }, maskIp: false, logPerMinute: 5 });
    const request = { method: 'POST', path: '/api/v1/track', headers: {}, body: new Uint8Array(10) };
    for (let i = 0; i < 50; i++) observer.answered(request, { status: 401, headers: {}, body: '{"error":"bad signature"}' }, { requestId: `r${i}`, error: new SignatureError('bad signature') });
    now = new Date(now.getTime() + 61_000);
    observer.answered(request, { status: 401, headers: {}, body: '' }, { requestId: 'r50', error: new SignatureError('bad signature') });
    expect(lines.filter((l) => l.msg === 'request refused')).toHaveLength(6);
    expect(lines.find((l) => l.msg.startsWith('refused requests not logged'))?.fields.requests).toBe(45);
  });

  it('names refusals by a bounded reason: the limit setting or the first segment of the field', () => {
    expect(refusalReason(400, new InvalidInputError('too many', { limit: 'FERRY_MAX_EVENTS' }))).toBe('limit:FERRY_MAX_EVENTS');
    expect(refusalReason(400, new InvalidInputError('bad nr', { field: 'payloads[17].nr' }))).toBe('field:payloads');
    expect(refusalReason(413, new InvalidInputError('big', {}, 413))).toBe('body_too_large');
  });

  it('counts parser lines by outcome per source and loader files and rows per table', async () => {
    const metrics = new PrometheusMetrics();
    recordParse(metrics, { source: 'nginx', source_key: 'logs/a.gz', source_etag: 'e', date: '2026-11-23', lines: 10, accepted: 7, ignored: 2, rejected: 1, ignored_by: { blank: 2, filtered: 0, rule: 0, unmatched: 0 }, rows: {}, outputs: [] }, 0.2);
    recordLoad(metrics, { runId: 'r', tables: [{ table: 'events', files: 2, rowsCopied: 9, rowsInserted: 8, quarantined: [{ key: 'k', etag: 'e', code: 'load_failed', sqlstate: '22P02', message: 'bad' }] }] }, 1.5);
    const { samples } = parseExposition((await metrics.render()).text);
    expect(value(samples, 'ferry_parser_lines_total', { source: 'nginx' })).toBe(10);
    expect(value(samples, 'ferry_parser_lines_by_outcome_total', { source: 'nginx', outcome: 'accepted' })).toBe(7);
    expect(value(samples, 'ferry_parser_lines_by_outcome_total', { source: 'nginx', outcome: 'rejected' })).toBe(1);
    expect(value(samples, 'ferry_loader_files_total', { table: 'events' })).toBe(2);
    expect(value(samples, 'ferry_loader_rows_total', { table: 'events', step: 'inserted' })).toBe(8);
    expect(value(samples, 'ferry_loader_quarantined_total', { table: 'events' })).toBe(1);
    expect(value(samples, 'ferry_loader_tick_seconds_sum')).toBe(1.5);
  });
});
