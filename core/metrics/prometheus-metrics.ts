import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricLabels, Metrics } from '../ports/metrics.js';
import { metricCatalogue, type MetricName } from './catalogue.js';

type Series = Counter | Histogram | Gauge;

/**
 * The metrics port on a prom-client registry of its own (not the global one, so two pipelines
 * in one process keep their counts apart), rendered as Prometheus text at `/metrics`.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly series = new Map<MetricName, Series>();

  constructor() {
    for (const [name, def] of Object.entries(metricCatalogue) as [MetricName, (typeof metricCatalogue)[MetricName]][]) {
      const common = { name, help: def.help, labelNames: [...def.labels], registers: [this.registry] };
      const series =
        def.kind === 'counter' ? new Counter(common)
        : def.kind === 'gauge' ? new Gauge(common)
        : new Histogram({ ...common, buckets: [...('buckets' in def ? def.buckets : [])] });
      this.series.set(name, series);
    }
  }

  count(name: MetricName, labels: MetricLabels = {}, value = 1): void {
    (this.series.get(name) as Counter).inc({ ...labels }, value);
  }

  observe(name: MetricName, value: number, labels: MetricLabels = {}): void {
    (this.series.get(name) as Histogram).observe({ ...labels }, value);
  }

  set(name: MetricName, value: number, labels: MetricLabels = {}): void {
    (this.series.get(name) as Gauge).set({ ...labels }, value);
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
