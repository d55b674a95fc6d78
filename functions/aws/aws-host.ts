import { S3BlobStore } from '../../core/adapters/s3-blob-store.js';
import { readConfig } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { cachedHost, createCloudHost, type CloudHost } from '../shared/cloud-host.js';
import { EmfMetrics } from '../../core/metrics/emf-metrics.js';

/** Everything a Lambda container builds once and reuses across invocations. */
export type AwsHost = CloudHost<S3BlobStore>;

async function build(env: Record<string, string | undefined>): Promise<AwsHost> {
  const config = readConfig(env);
  const { bucket, s3Endpoint: endpoint } = config.aws;
  if (!bucket) throw new ConfigError([{ key: 'FERRY_S3_BUCKET', reason: 'is required on AWS (the data bucket)' }]);
  // Lambda sends stdout to CloudWatch Logs, which turns EMF lines into metrics (namespace Ferry).
  const metrics = new EmfMetrics('Ferry', (line) => process.stdout.write(`${line}\n`));
  return createCloudHost(config, new S3BlobStore({ bucket, client: endpoint ? { endpoint, forcePathStyle: true } : {} }), 'AWS', metrics);
}

const host = cachedHost(() => build(process.env));

/** The container's host, built from the environment on first use (a bad config fails every call, naming the keys). */
export function awsHost(): Promise<AwsHost> {
  return host.get();
}

/** Forgets the container's host (tests change the environment between cases). */
export async function resetAwsHost(): Promise<void> {
  (await host.reset())?.store.client.destroy();
}
