import { ContainerClient } from '@azure/storage-blob';
import { AzureBlobStore } from '../../core/adapters/azure-blob-store.js';
import { readConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { cachedHost, createCloudHost, type CloudHost } from '../shared/cloud-host.js';

/** Everything a Functions worker builds once and reuses across invocations. */
export interface AzureHost extends CloudHost<AzureBlobStore> {
  container: string;
}

async function build(env: Record<string, string | undefined>): Promise<AzureHost> {
  const config = readConfig(env);
  const connection = env.FERRY_AZURE_STORAGE_CONNECTION_STRING?.trim();
  if (!connection) throw new ConfigError([{ key: 'FERRY_AZURE_STORAGE_CONNECTION_STRING', reason: 'is required on Azure (the data storage account)' }]);
  const container = env.FERRY_AZURE_CONTAINER?.trim() || 'ferry';
  const store = new AzureBlobStore({ container: new ContainerClient(connection, container) });
  return { ...(await createCloudHost(config, store, 'Azure')), container };
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
