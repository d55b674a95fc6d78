import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';

/**
 * Reads a Node request into the core's plain message. Reads at most `maxBodyBytes + 1` bytes, so
 * the core can refuse an oversized body (413) without it ever being held in memory whole; the
 * rest stays unread (`req.complete` is false) for `toNodeResponse` to discard.
 */
export async function fromNodeRequest(req: IncomingMessage, maxBodyBytes: number): Promise<HttpRequestMessage> {
  // 'data'/'end' listeners rather than `for await`: the async iterator costs a promise per chunk.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        onEnd();
      }
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
  const headers: Record<string, string | undefined> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: query >= 0 ? url.slice(0, query) : url,
    headers,
    body,
    remoteAddress: req.socket.remoteAddress,
  };
}

/**
 * How long the rest of an unread body is read and thrown away after the response, as nginx's
 * lingering close does (its `lingering_time` and `lingering_timeout`).
 */
export interface Lingering {
  /** Longest time spent discarding, in ms. */
  totalMs: number;
  /** Give up when nothing arrives for this long, in ms. */
  idleMs: number;
}

export const defaultLingering: Lingering = { totalMs: 30_000, idleMs: 5_000 };

/**
 * Writes the core's response to a Node response. When the request's body was not read to its end
 * (a 413, or a refusal before reading), the connection is closed after it: closing a socket with
 * unread bytes makes the kernel reset the connection, and a client that sends its whole body
 * before reading (Python's http.client, mobile stacks) would see a broken pipe instead of the
 * answer and retry it forever. So the response is written whole, the rest of the body is read
 * and discarded within `lingering`, and only then is the response ended and the socket closed.
 */
export function toNodeResponse(req: IncomingMessage, res: ServerResponse, message: HttpResponseMessage, close = false, lingering = defaultLingering): void {
  const unread = !req.complete;
  const headers: Record<string, string> = { ...message.headers, 'content-length': String(Buffer.byteLength(message.body)) };
  if (close || unread) headers.connection = 'close';
  res.writeHead(message.status, headers);
  if (!unread) {
    res.end(message.body);
    return;
  }
  res.write(message.body);
  void discardBody(req, lingering).then(() => res.end());
}

/** Reads and drops what is left of `req`'s body; resolves at its end, when the client goes, or at a `lingering` bound. */
function discardBody(req: IncomingMessage, lingering: Lingering): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(total);
      clearTimeout(idle);
      req.off('data', onData);
      req.off('end', done);
      req.off('close', done);
      req.off('error', done);
      resolve();
    };
    const total = setTimeout(done, lingering.totalMs);
    const idle = setTimeout(done, lingering.idleMs);
    const onData = () => idle.refresh();
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}
