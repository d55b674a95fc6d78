import type { MetricName } from '../metrics/catalogue.js';

/** Label values of one series; the names a metric takes are fixed by the catalogue. */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * Metrics port: counters, histograms and gauges named in `core/metrics/catalogue.ts`.
 * Adapters: Prometheus text (`ferry serve`'s `/metrics`), CloudWatch EMF log lines (Lambda),
 * OpenTelemetry to Application Insights (Azure), and none (`noMetrics`). Recording
 * never throws and never waits: a metric must not fail or slow the work it measures.
 */
export interface Metrics {
  /** Adds `value` (default 1) to a counter. */
  count(name: MetricName, labels?: MetricLabels, value?: number): void;
  /** Records one observation in a histogram (seconds, bytes, events). */
  observe(name: MetricName, value: number, labels?: MetricLabels): void;
  /** Sets a gauge (a backlog's size or age). */
  set(name: MetricName, value: number, labels?: MetricLabels): void;
  /** Writes what was gathered, where an adapter writes at the end of an invocation (EMF, OpenTelemetry); never throws. */
  flush?(): void | Promise<void>;
}

/** Metrics that go nowhere: the default where a host exports none. */
export const noMetrics: Metrics = {
  count: () => undefined,
  observe: () => undefined,
  set: () => undefined,
};
