import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequestMessage, HttpResponseMessage } from '../../core/http/http-message.js';

/**
 * Reads a Node request into the core's plain message. Reads at most `maxBodyBytes + 1` bytes, so
 * the core can refuse an oversized body (413) without it ever being held in memory whole.
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

/** Writes the core's response to a Node response. */
export function toNodeResponse(res: ServerResponse, message: HttpResponseMessage, close = false): void {
  const headers: Record<string, string> = { ...message.headers, 'content-length': String(Buffer.byteLength(message.body)) };
  if (close) headers.connection = 'close';
  res.writeHead(message.status, headers);
  res.end(message.body);
}
