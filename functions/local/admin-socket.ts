import { createServer, request } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import type { Logger } from '../../core/ports/logger.js';
import type { Row, Warehouse } from '../../core/ports/warehouse.js';
import { errorFields } from '../../core/support/json-logger.js';

/**
 * A local-only query endpoint on a Unix socket in the data dir. The embedded warehouse admits one
 * process, so while `ferry serve` runs, `ferry query` asks it through this socket.
 */
export async function startAdminSocket(path: string, warehouse: Warehouse, logger: Logger): Promise<{ close(): Promise<void> }> {
  await rm(path, { force: true });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let sql = '';
      let params: unknown[] | undefined;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { sql?: unknown; params?: unknown };
        sql = String(body.sql ?? '');
        params = Array.isArray(body.params) ? body.params : undefined;
      } catch {
        sql = '';
      }
      warehouse
        .query(sql, params)
        .then((rows) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ rows }));
        })
        .catch((err: unknown) => {
          logger.debug('admin query failed', errorFields(err));
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: (err as Error).message, code: (err as { code?: string }).code }));
        });
    });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(path, () => ready());
  });
  await chmod(path, 0o600);
  return {
    close: async () => {
      await new Promise<void>((done) => server.close(() => done()));
      await rm(path, { force: true });
    },
  };
}

/** Sends one query to a running pipeline's admin socket; `undefined` when nothing listens there. */
export function queryAdminSocket(path: string, sql: string, params?: readonly unknown[]): Promise<Row[] | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method: 'POST', path: '/query', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { rows?: Row[]; error?: string; code?: string };
        if (res.statusCode === 200) resolve(body.rows ?? []);
        else reject(Object.assign(new Error(body.error ?? `query failed with status ${res.statusCode}`), { code: body.code }));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') resolve(undefined);
      else reject(err);
    });
    req.end(JSON.stringify({ sql, params }));
  });
}
