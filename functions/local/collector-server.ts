import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';
import { errorResponse } from '../../core/http/http-message.js';
import type { Logger } from '../../core/ports/logger.js';
import { errorFields } from '../../core/support/json-logger.js';
import { fromNodeRequest, toNodeResponse } from './node-http.js';

/** What the local runner's HTTP server needs. */
export interface CollectorServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  logger: Logger;
  /** Answers one request (the collector, wrapped by the host's own checks). */
  handle(request: HttpRequestMessage): Promise<HttpResponseMessage>;
  /** The answer to requests that arrive once `drain` was called (503 with Retry-After). */
  stopping: HttpResponseMessage;
  /** Longest `drain` waits for requests in flight, in ms. */
  drainGraceMs?: number;
}

/** The local runner's HTTP server, listening. */
export interface CollectorServer {
  /** The address and port it listens on, as bound (`0.0.0.0` is every IPv4 interface). */
  address: AddressInfo;
  /** A URL that reaches it from this machine. */
  localUrl: string;
  /**
   * Starts the shutdown: requests that arrive from now on get `stopping` (and the connection is
   * closed after it), while requests already in flight finish. Resolves once those have been
   * answered, or after `drainGraceMs`.
   */
  drain(): Promise<void>;
  /** Stops listening and resolves once every connection has closed. */
  close(): Promise<void>;
}

/** The host part of a URL for `address`: wildcards become loopback, IPv6 goes in brackets. */
function urlHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/**
 * Starts the collector's HTTP server on `host:port`. Until `close`, it keeps listening through
 * the shutdown, so a client is told to retry later (503 + Retry-After) rather than having its
 * connection refused, which clients take for a network failure.
 */
export async function startCollectorServer(options: CollectorServerOptions): Promise<CollectorServer> {
  let draining = false;
  const inFlight = new Set<Promise<void>>();
  const { logger } = options;
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const response = await options.handle(await fromNodeRequest(req, options.maxBodyBytes));
      toNodeResponse(req, res, response, draining);
    } catch (err) {
      logger.error('request failed', errorFields(err));
      if (!res.headersSent) toNodeResponse(req, res, errorResponse(500, 'internal error'), true);
      else res.destroy();
    }
  };
  const server = createServer((req, res) => {
    if (draining) return toNodeResponse(req, res, options.stopping, true);
    const served = serve(req, res);
    inFlight.add(served);
    void served.finally(() => inFlight.delete(served));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      ready();
    });
  });
  server.on('error', (err) => logger.error('http server failed', errorFields(err)));
  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    address,
    localUrl: `http://${urlHost(address)}:${address.port}`,
    drain: async () => {
      draining = true;
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.drainGraceMs ?? 10_000)));
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      clearTimeout(timer);
    },
    close: () =>
      (closed ??= new Promise<void>((done) => {
        draining = true;
        server.close(() => done());
        server.closeIdleConnections();
      })),
  };
}
