import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ContainerClient } from '@azure/storage-blob';

const nodeModules = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** Azurite's well-known development account (documented by Microsoft; not a secret). */
const azuriteAccount = 'devstoreaccount1';
const azuriteKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running emulator and how to stop it. */
export interface Emulator<T> {
  /** A fresh, empty bucket or container. */
  fresh(): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts s3rver as a child process on a free loopback port, with a temp directory. A child, not
 * in-process: its list continuation tokens use DES, which OpenSSL 3 only offers with
 * `--openssl-legacy-provider`, and that flag should not leak into the test process.
 */
export async function startS3(): Promise<Emulator<{ client: S3Client; bucket: string; config: ConstructorParameters<typeof S3Client>[0] }>> {
  const directory = await mkdtemp(join(tmpdir(), 'ferry-s3rver-'));
  const { port, child } = await startListening('s3rver', (port) =>
    spawn(process.execPath, ['--openssl-legacy-provider', join(nodeModules, 's3rver', 'bin', 's3rver.js'), '-d', directory, '-a', '127.0.0.1', '-p', String(port), '--silent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const config = {
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
  const client = new S3Client(config);
  return {
    async fresh() {
      const bucket = `ferry-${randomBytes(4).toString('hex')}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return { client, bucket, config };
    },
    async stop() {
      client.destroy();
      await stopChild(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function capture(child: ChildProcess): () => string {
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return () => output;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Whether `pid` holds the listening socket on `port` (Linux `/proc`): a free port picked by one
 * test file can be taken by another's emulator before ours binds it, and a connection that works
 * then reaches the wrong server.
 */
function ownsListeningPort(pid: number, port: number): boolean {
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['tcp', 'tcp6']) {
      for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
      }
    }
    if (inodes.size === 0) return false;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }) as string;
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return true;
    }
  } catch {
    // the process is gone
  }
  return false;
}

/** Starts an emulator on a free port, again on another one when the port was taken meanwhile. */
async function startListening(name: string, start: (port: number) => ChildProcess): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = start(port);
    const log = capture(child);
    try {
      await waitForPort(port, child, name, log);
      return { port, child };
    } catch (err) {
      await stopChild(child);
      if (attempt >= 3) throw err;
    }
  }
}

async function waitForPort(port: number, child: ChildProcess, name: string, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${log()}`);
    if (ownsListeningPort(child.pid!, port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on ${port}: ${log()}`);
}

/** Starts Azurite (blob service only, in memory, no telemetry) as a child process. */
export async function startAzurite(): Promise<Emulator<ContainerClient> & { connection: string }> {
  const { port, child } = await startListening('azurite', (port) =>
    spawn(
      process.execPath,
      [join(nodeModules, 'azurite', 'dist', 'src', 'blob', 'main.js'), '--inMemoryPersistence', '--loose', '--skipApiVersionCheck', '--disableTelemetry', '--blobHost', '127.0.0.1', '--blobPort', String(port), '--silent'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const connection = `DefaultEndpointsProtocol=http;AccountName=${azuriteAccount};AccountKey=${azuriteKey};BlobEndpoint=http://127.0.0.1:${port}/${azuriteAccount};`;
  return {
    connection,
    async fresh() {
      const container = new ContainerClient(connection, `ferry-${randomBytes(4).toString('hex')}`);
      await container.create();
      return container;
    },
    stop: () => stopChild(child),
  };
}
