import { describe, expect, it } from 'vitest';
import { metricCatalogue } from '../../core/metrics/catalogue.js';
import { EmfMetrics, type EmfDocument } from '../../core/metrics/emf-metrics.js';

/**
 * The Embedded Metric Format rules CloudWatch applies (docs: CloudWatch_Embedded_Metric_Format_Specification):
 * `_aws.Timestamp` in epoch ms; each directive has a Namespace, Dimensions (lists of member
 * names, at most 30 each) and Metrics (Name, Unit from the allowed list), at most 100; every
 * dimension and metric named is a top-level member; a metric value is a number or a list of at
 * most 100 numbers; dimension values are strings.
 */
function assertEmf(document: EmfDocument): void {
  const units = new Set(['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Count/Second', 'None']);
  expect(Number.isInteger(document._aws.Timestamp)).toBe(true);
  for (const directive of document._aws.CloudWatchMetrics) {
    expect(directive.Namespace).toMatch(/^[\x20-\x7e]{1,255}$/);
    expect(directive.Metrics.length).toBeLessThanOrEqual(100);
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(30);
      for (const dimension of set) expect(typeof document[dimension]).toBe('string');
    }
    for (const metric of directive.Metrics) {
      expect(units.has(metric.Unit)).toBe(true);
      const value = document[metric.Name];
      if (Array.isArray(value)) {
        expect(value.length).toBeLessThanOrEqual(100);
        for (const v of value) expect(typeof v).toBe('number');
      } else expect(typeof value).toBe('number');
    }
  }
}

describe('CloudWatch EMF metrics', () => {
  it('writes one document per label set: labels as dimensions, counters summed, observations listed', () => {
    const lines: string[] = [];
    const metrics = new EmfMetrics('Ferry', (line) => lines.push(line), () => 1_795_428_000_000);
    metrics.count('ferry_collector_requests_total', { status: '200', reason: 'ok' });
    metrics.count('ferry_collector_requests_total', { reason: 'ok', status: '200' });
    metrics.count('ferry_collector_requests_total', { status: '415', reason: 'content_type' });
    metrics.count('ferry_collector_events_accepted_total', {}, 13);
    metrics.observe('ferry_collector_put_seconds', 0.02);
    metrics.observe('ferry_collector_put_seconds', 0.04);
    metrics.flush();
    const documents = lines.map((l) => JSON.parse(l) as EmfDocument);
    documents.forEach(assertEmf);
    expect(documents).toEqual([
      { _aws: { Timestamp: 1_795_428_000_000, CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [['reason', 'status']], Metrics: [{ Name: 'ferry_collector_requests_total', Unit: 'Count' }] }] }, status: '200', reason: 'ok', ferry_collector_requests_total: 2 },
      { _aws: { Timestamp: 1_795_428_000_000, CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [['reason', 'status']], Metrics: [{ Name: 'ferry_collector_requests_total', Unit: 'Count' }] }] }, status: '415', reason: 'content_type', ferry_collector_requests_total: 1 },
      {
        _aws: { Timestamp: 1_795_428_000_000, CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [[]], Metrics: [{ Name: 'ferry_collector_events_accepted_total', Unit: 'Count' }, { Name: 'ferry_collector_put_seconds', Unit: 'Seconds' }] }] },
        ferry_collector_events_accepted_total: 13,
        ferry_collector_put_seconds: [0.02, 0.04],
      },
    ]);
    // A flush forgets what it wrote.
    metrics.flush();
    expect(lines).toHaveLength(3);
  });

  it('splits more than 100 observations of a metric over documents, and every catalogue unit is one CloudWatch takes', () => {
    const metrics = new EmfMetrics('Ferry', () => undefined);
    for (let i = 0; i < 250; i++) metrics.observe('ferry_parser_parse_seconds', i / 1000, { source: 'events' });
    const documents = metrics.drain();
    documents.forEach(assertEmf);
    expect(documents.map((d) => (d.ferry_parser_parse_seconds as number[]).length)).toEqual([100, 100, 50]);
    const all = new EmfMetrics('Ferry', () => undefined);
    for (const name of Object.keys(metricCatalogue) as (keyof typeof metricCatalogue)[]) all.count(name);
    all.drain().forEach(assertEmf);
  });
});
