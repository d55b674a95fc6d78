import type { Counter, Gauge, Histogram } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { MetricLabels, Metrics } from '../ports/metrics.js';
import { metricCatalogue, type MetricDefinition, type MetricName } from './catalogue.js';

/** The catalogue's units as OpenTelemetry writes them (UCUM). */
const otelUnits: Record<MetricDefinition['unit'], string> = { Count: '1', Seconds: 's', Bytes: 'By' };

/** How an `OtelMetrics` exports. */
export interface OtelMetricsOptions {
  /** Where the metrics go: Azure Monitor's exporter on Azure, an in-memory one in tests. */
  exporter: PushMetricExporter;
  /**
   * `flush` exports at most this often (default 60 s, Application Insights' own aggregation
   * period); in between the reader exports on the same period. Exporting at the end of every
   * invocation would send one ingestion request per track request.
   */
  flushIntervalMs?: number;
  /** `service.name`: Application Insights' cloud role name (default `ferry`). */
  serviceName?: string;
  /** Hears a failed export (a metric must not fail the work it measures). */
  onError?: (err: Error) => void;
  now?: () => number;
}

type Instrument = Counter | Histogram | Gauge;

/**
 * `exporter` telling `onError` of each failed export: the reader itself only hands failures to
 * OpenTelemetry's global error handler, periodic and forced exports alike.
 */
function reportingFailures(exporter: PushMetricExporter, onError: ((err: Error) => void) | undefined): PushMetricExporter {
  if (!onError) return exporter;
  return {
    export: (metrics, done) =>
      exporter.export(metrics, (result) => {
        // ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
        if (result.code !== 0) onError(result.error ?? new Error('metrics export failed'));
        done(result);
      }),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) } : {}),
    ...(exporter.selectAggregation ? { selectAggregation: exporter.selectAggregation.bind(exporter) } : {}),
  };
}

/**
 * The metrics port on an OpenTelemetry meter of its own (not the global provider), exported by
 * a push exporter: counters as OTel counters, observations as histograms with the catalogue's
 * buckets, gauges as synchronous gauges; labels become attributes.
 */
export class OtelMetrics implements Metrics {
  private readonly provider: MeterProvider;
  private readonly reader: PeriodicExportingMetricReader;
  private readonly instruments = new Map<MetricName, Instrument>();
  private readonly flushIntervalMs: number;
  private readonly now: () => number;
  private lastFlush = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: OtelMetricsOptions) {
    this.flushIntervalMs = options.flushIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
    const period = Math.max(this.flushIntervalMs, 1000);
    this.reader = new PeriodicExportingMetricReader({ exporter: reportingFailures(options.exporter, options.onError), exportIntervalMillis: period, exportTimeoutMillis: Math.min(period, 10_000) });
    const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': options.serviceName ?? 'ferry' }));
    this.provider = new MeterProvider({ resource, readers: [this.reader] });
    const meter = this.provider.getMeter('ferry');
    for (const [name, def] of Object.entries(metricCatalogue) as [MetricName, MetricDefinition][]) {
      const common = { description: def.help, unit: otelUnits[def.unit] };
      const instrument =
        def.kind === 'counter' ? meter.createCounter(name, common)
        : def.kind === 'gauge' ? meter.createGauge(name, common)
        : meter.createHistogram(name, { ...common, advice: { explicitBucketBoundaries: [...(def.buckets ?? [])] } });
      this.instruments.set(name, instrument);
    }
  }

  count(name: MetricName, labels: MetricLabels = {}, value = 1): void {
    (this.instruments.get(name) as Counter).add(value, labels);
  }

  observe(name: MetricName, value: number, labels: MetricLabels = {}): void {
    (this.instruments.get(name) as Histogram).record(value, labels);
  }

  set(name: MetricName, value: number, labels: MetricLabels = {}): void {
    (this.instruments.get(name) as Gauge).record(value, labels);
  }

  /** Exports what was gathered, unless the last flush was less than `flushIntervalMs` ago. */
  async flush(): Promise<void> {
    const now = this.now();
    if (now - this.lastFlush < this.flushIntervalMs) return;
    this.lastFlush = now;
    try {
      await this.reader.forceFlush();
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }

  /** Exports the rest and stops the reader (the host is shutting down). */
  async shutdown(): Promise<void> {
    try {
      await this.provider.shutdown();
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }
}
