import { DefaultAzureCredential } from '@azure/identity';
import { ContainerClient } from '@azure/storage-blob';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { readConfig, type AzureSettings } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { cachedHost, createCloudHost, type CloudHost } from '../shared/cloud-host.js';

/** Everything a Functions worker builds once and reuses across invocations. */
export interface AzureHost extends CloudHost<AzureBlobStore> {
  container: string;
}

async function build(env: Record<string, string | undefined>): Promise<AzureHost> {
  const config = readConfig(env);
  const store = new AzureBlobStore({ container: containerClientFrom(config.azure) });
  return { ...(await createCloudHost(config, store, 'Azure')), container: config.azure.container };
}

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
}
