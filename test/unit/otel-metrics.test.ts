import { AggregationTemporality, DataPointType, InMemoryMetricExporter, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { metricCatalogue, type MetricName } from '../../core/metrics/catalogue.js';
import { OtelMetrics } from '../../core/metrics/otel-metrics.js';
import { recordLoad } from '../../core/metrics/stage-metrics.js';

/** Every data point exported since the last reset, flattened: name, attributes and value (a histogram's count, sum and buckets). */
function points(exporter: InMemoryMetricExporter): { name: string; attributes: Record<string, unknown>; value: unknown }[] {
  const metrics: MetricData[] = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  return metrics.flatMap((m) =>
    m.dataPoints.map((p) => ({
      name: m.descriptor.name,
      attributes: p.attributes,
      value: m.dataPointType === DataPointType.HISTOGRAM ? (({ count, sum, buckets }: Histogram) => ({ count, sum, counts: buckets.counts }))(p.value as Histogram) : p.value,
    })),
  );
}

describe('OpenTelemetry metrics', () => {
  let metrics: OtelMetrics | undefined;
  afterEach(async () => metrics?.shutdown());

  it('exports the catalogue\'s names with labels as attributes: counters summed, observations as histograms with the catalogue\'s buckets, gauges last', async () => {
    // Delta temporality, as Azure Monitor's exporter asks for counters and histograms.
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    metrics = new OtelMetrics({ exporter });
    metrics.count('ferry_collector_requests_total', { status: '200', reason: 'ok' });
    metrics.count('ferry_collector_requests_total', { status: '200', reason: 'ok' });
    metrics.count('ferry_collector_requests_total', { status: '415', reason: 'content_type' });
    metrics.count('ferry_collector_events_accepted_total', {}, 13);
    metrics.observe('ferry_collector_put_seconds', 0.02);
    metrics.observe('ferry_collector_put_seconds', 0.04);
    metrics.set('ferry_parser_backlog_inputs', 5, { prefix: 'raw/events/' });
    metrics.set('ferry_parser_backlog_inputs', 3, { prefix: 'raw/events/' });
    recordLoad(metrics, { runId: 'r', tables: [{ table: 'events', files: 2, rowsCopied: 10, rowsInserted: 9, quarantined: [] }] } as never, 1.5);
    await metrics.flush();

    const exported = points(exporter);
    const find = (name: MetricName, attributes: Record<string, string> = {}) => exported.filter((p) => p.name === name && JSON.stringify(p.attributes) === JSON.stringify(attributes)).map((p) => p.value);
    expect(find('ferry_collector_requests_total', { status: '200', reason: 'ok' })).toEqual([2]);
    expect(find('ferry_collector_requests_total', { status: '415', reason: 'content_type' })).toEqual([1]);
    expect(find('ferry_collector_events_accepted_total')).toEqual([13]);
    const buckets = metricCatalogue.ferry_collector_put_seconds.buckets;
    const counts = buckets.map((b, i) => [0.02, 0.04].filter((v) => v <= b && (i === 0 || v > buckets[i - 1]!)).length);
    expect(find('ferry_collector_put_seconds')).toEqual([{ count: 2, sum: expect.closeTo(0.06, 10), counts: [...counts, 0] }]);
    expect(find('ferry_parser_backlog_inputs', { prefix: 'raw/events/' })).toEqual([3]);
    expect(find('ferry_loader_files_total', { table: 'events' })).toEqual([2]);
    expect(find('ferry_loader_rows_total', { table: 'events', step: 'copied' })).toEqual([10]);
    expect(find('ferry_loader_rows_total', { table: 'events', step: 'inserted' })).toEqual([9]);
    expect(find('ferry_loader_tick_seconds')).toEqual([expect.objectContaining({ count: 1, sum: 1.5 })]);
    // Nothing else: no failures or quarantines were counted.
    expect(new Set(exported.map((p) => p.name))).toEqual(new Set(['ferry_collector_requests_total', 'ferry_collector_events_accepted_total', 'ferry_collector_put_seconds', 'ferry_parser_backlog_inputs', 'ferry_loader_files_total', 'ferry_loader_rows_total', 'ferry_loader_tick_seconds']));

    const descriptors = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor)));
    expect(descriptors.find((d) => d.name === 'ferry_collector_put_seconds')).toMatchObject({ unit: 's', description: metricCatalogue.ferry_collector_put_seconds.help });
  });

  it('exports at most once per interval from flush, then only what came since (delta)', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    let now = 1_000_000;
    metrics = new OtelMetrics({ exporter, flushIntervalMs: 60_000, now: () => now });
    metrics.count('ferry_parser_inputs_total', { source: 'events' });
    await metrics.flush();
    expect(points(exporter)).toEqual([{ name: 'ferry_parser_inputs_total', attributes: { source: 'events' }, value: 1 }]);
    exporter.reset();

    metrics.count('ferry_parser_inputs_total', { source: 'events' }, 4);
    now += 59_000;
    await metrics.flush();
    expect(points(exporter)).toEqual([]);
    now += 1_000;
    await metrics.flush();
    expect(points(exporter)).toEqual([{ name: 'ferry_parser_inputs_total', attributes: { source: 'events' }, value: 4 }]);
  });

  it('hears a failed export instead of throwing', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    await exporter.shutdown(); // a shut exporter answers every export with a failure
    const errors: Error[] = [];
    metrics = new OtelMetrics({ exporter, onError: (err) => errors.push(err) });
    metrics.count('ferry_parser_failures_total');
    await expect(metrics.flush()).resolves.toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual(['metrics export failed']);
  });
});
