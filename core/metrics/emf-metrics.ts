import type { MetricLabels, Metrics } from '../ports/metrics.js';
import { metricCatalogue, type MetricName } from './catalogue.js';

/** CloudWatch takes at most 100 metrics a document and 100 values a metric. */
const maxMetricsPerDocument = 100;
const maxValuesPerMetric = 100;

/** One CloudWatch Embedded Metric Format document (one log line). */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [member: string]: unknown;
}

interface Series {
  labels: MetricLabels;
  values: Map<MetricName, number[]>;
}

/**
 * The metrics port as CloudWatch Embedded Metric Format lines (what Lambda's log pipeline turns
 * into metrics without an API call): values gather in memory and `flush` writes one JSON
 * document per label set — its labels are the dimensions — at the end of an invocation.
 * Counters are summed, gauges keep their last value, histogram observations go as a value list.
 */
export class EmfMetrics implements Metrics {
  private series = new Map<string, Series>();

  constructor(
    private readonly namespace: string,
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  count(name: MetricName, labels: MetricLabels = {}, value = 1): void {
    const values = this.valuesOf(name, labels);
    values[0] = (values[0] ?? 0) + value;
  }

  observe(name: MetricName, value: number, labels: MetricLabels = {}): void {
    this.valuesOf(name, labels).push(value);
  }

  set(name: MetricName, value: number, labels: MetricLabels = {}): void {
    const values = this.valuesOf(name, labels);
    values.length = 0;
    values.push(value);
  }

  /** The documents gathered since the last flush, which are forgotten. */
  drain(): EmfDocument[] {
    const documents: EmfDocument[] = [];
    for (const { labels, values } of this.series.values()) {
      const dimensions = Object.keys(labels).sort();
      // A histogram with more than 100 observations goes in several documents.
      const pending = [...values.entries()].map(([name, list]) => ({ name, list: [...list] }));
      while (pending.some((p) => p.list.length > 0)) {
        const metrics = pending.filter((p) => p.list.length > 0).slice(0, maxMetricsPerDocument);
        const document: EmfDocument = {
          _aws: { Timestamp: this.now(), CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [dimensions], Metrics: metrics.map((m) => ({ Name: m.name, Unit: metricCatalogue[m.name].unit })) }] },
          ...labels,
        };
        for (const m of metrics) {
          const chunk = m.list.splice(0, maxValuesPerMetric);
          document[m.name] = chunk.length === 1 ? chunk[0] : chunk;
        }
        documents.push(document);
      }
    }
    this.series = new Map();
    return documents;
  }

  /** Writes the gathered documents, one line each. */
  flush(): void {
    for (const document of this.drain()) this.write(JSON.stringify(document));
  }

  private valuesOf(name: MetricName, labels: MetricLabels): number[] {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { labels: { ...labels }, values: new Map() }));
    let values = series.values.get(name);
    if (!values) series.values.set(name, (values = []));
    return values;
  }
}
