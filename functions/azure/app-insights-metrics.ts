import { AzureMonitorMetricExporter } from '@azure/monitor-opentelemetry-exporter';
import { OtelMetrics } from '../../core/metrics/otel-metrics.js';

/**
 * Ferry's metrics as Application Insights custom metrics (`customMetrics`, the labels as custom
 * dimensions) through OpenTelemetry and Azure Monitor's exporter; undefined without a
 * connection string (no metrics). Exports at most once a minute per instance. The cloud role
 * name is the function app's (`WEBSITE_SITE_NAME`).
 */
export function appInsightsMetrics(connectionString: string | undefined, onError: (err: Error) => void, appName?: string): OtelMetrics | undefined {
  if (!connectionString) return undefined;
  const exporter = new AzureMonitorMetricExporter({ connectionString });
  return new OtelMetrics({ exporter, onError, serviceName: appName ?? 'ferry' });
}
