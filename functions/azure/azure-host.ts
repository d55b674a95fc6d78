import { DefaultAzureCredential } from '@azure/identity';
import { ContainerClient } from '@azure/storage-blob';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { readConfig, type AzureSettings } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { cachedHost, createCloudHost, type CloudHost } from '../shared/cloud-host.js';
import type { Logger } from '../../core/ports/logger.js';
import { noMetrics } from '../../core/ports/metrics.js';
import type { OtelMetrics } from '../../core/metrics/otel-metrics.js';
import { appInsightsMetrics } from './app-insights-metrics.js';

/** Everything a Functions worker builds once and reuses across invocations. */
export interface AzureHost extends CloudHost<AzureBlobStore> {
  container: string;
}

async function build(env: Record<string, string | undefined>): Promise<AzureHost> {
  const config = readConfig(env);
  const store = new AzureBlobStore({ container: containerClientFrom(config.azure) });
  // The host's logger, once built, hears failed exports.
  const log: { to?: Logger } = {};
  const exported = appInsightsMetrics(config.azure.appInsightsConnectionString, (err) => log.to?.warn('metrics: export to Application Insights failed', { error: err.message }), env.WEBSITE_SITE_NAME);
  const host = await createCloudHost(config, store, 'Azure', exported ?? noMetrics).catch(async (err: unknown) => {
    await exported?.shutdown();
    throw err;
  });
  log.to = host.logger;
  metrics = exported;
  return { ...host, container: config.azure.container };
}

/** The worker's Application Insights metrics, if any: shut down (the rest exported) when the worker stops. */
let metrics: OtelMetrics | undefined;

/**
 * The data container: by connection string (account key or SAS; Azurite), else by account URL
 * with the app's Entra identity (`DefaultAzureCredential`: the managed identity on Azure), which is
 * what the ARM template sets up so no storage key is ever handed to the app.
 */
export function containerClientFrom({ connectionString, accountUrl, container }: AzureSettings): ContainerClient {
  if (connectionString) return new ContainerClient(connectionString, container);
  if (!accountUrl) {
    throw new ConfigError([{ key: 'FERRY_AZURE_STORAGE_ACCOUNT_URL', reason: 'or FERRY_AZURE_STORAGE_CONNECTION_STRING is required on Azure (the data storage account)' }]);
  }
  return new ContainerClient(`${accountUrl.replace(/\/$/, '')}/${container}`, new DefaultAzureCredential());
}

const host = cachedHost(() => build(process.env));

/** The worker's host, built from the environment on first use. */
export function azureHost(): Promise<AzureHost> {
  return host.get();
}

/** Forgets the worker's host (tests change the environment between cases). */
export async function resetAzureHost(): Promise<void> {
  await host.reset();
  await closeAzureMetrics();
}

/** Exports the metrics not yet sent and stops their exporter (the worker is stopping). */
export async function closeAzureMetrics(): Promise<void> {
  const closing = metrics;
  metrics = undefined;
  await closing?.shutdown();
}
