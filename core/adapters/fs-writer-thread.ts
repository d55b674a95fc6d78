import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** One put of an in-memory body into the filesystem store, done whole on one thread (the writer thread, or a caller that may block). */
export interface DurableWrite {
  /** Directories to create first (those not yet known to exist). */
  dirs: string[];
  /** Temporary data file, renamed to `target` once written and fsync'd. */
  dataTmp: string;
  target: string;
  /** Temporary sidecar, renamed to `metaTarget` before the data (a crash in between leaves no object). */
  metaTmp: string;
  metaTarget: string;
  body: Uint8Array;
  /** The object's metadata, stored in the sidecar beside the ETag and size the thread works out. */
  metadata: Record<string, string>;
}

/** What a finished durable write reports. */
export interface DurableWriteResult {
  etag: string;
  size: number;
  /** The data file's mtime and inode, read before close (the rename keeps both). */
  mtimeMs: number;
  ino: number;
}

interface Request extends DurableWrite {
  id: number;
}

type Reply = { id: number; result: DurableWriteResult } | { id: number; error: { message: string; code?: string } };

/**
 * One durable write with synchronous file calls. It is also sent to the writer thread as source
 * text, so it must not use anything from outside its body but `require`.
 */
function durableWrite(job: DurableWrite, require: NodeJS.Require): DurableWriteResult {
  const fs = require('node:fs') as typeof import('node:fs');
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const { dirname } = require('node:path') as typeof import('node:path');
  const fsyncDir = (path: string) => {
    const fd = fs.openSync(path, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  for (const dir of job.dirs) fs.mkdirSync(dir, { recursive: true });
  const etag = createHash('md5').update(job.body).digest('hex');
  const size = job.body.byteLength;
  const fd = fs.openSync(job.dataTmp, 'w');
  let stats: import('node:fs').Stats;
  try {
    for (let offset = 0; offset < size; ) offset += fs.writeSync(fd, job.body, offset);
    fs.fsyncSync(fd);
    stats = fs.fstatSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const result: DurableWriteResult = { etag, size, mtimeMs: stats.mtimeMs, ino: stats.ino };
  // The sidecar needs no fsync: if a crash loses it, head() derives the ETag from the bytes again.
  fs.writeFileSync(job.metaTmp, JSON.stringify({ ...result, metadata: job.metadata }));
  fs.renameSync(job.metaTmp, job.metaTarget);
  fs.renameSync(job.dataTmp, job.target);
  fsyncDir(dirname(job.target));
  return result;
}

/** The writer thread's whole program, as source text: `durableWrite` for each message. */
const writerThreadProgram = `
const { parentPort } = require('node:worker_threads');
const durableWrite = ${durableWrite.toString()};
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ id: job.id, result: durableWrite(job, require) });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: { message: err.message, code: err.code } });
  }
});`;

/**
 * Runs durable writes on one thread with synchronous file calls: an asynchronous fs call costs
 * the event loop a hand-off to libuv's pool and back, several times the call itself, and a
 * durable put is a dozen such calls; on the thread it is one message each way. The thread holds
 * the process open only while a write is under way.
 */
class WriterThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: DurableWriteResult) => void; reject: (err: Error) => void }>();

  write(job: DurableWrite): Promise<DurableWriteResult> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    if (this.pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id } satisfies Request);
    });
  }

  private start(): Worker {
    const worker = new Worker(writerThreadProgram, { eval: true });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('result' in reply) waiter?.resolve(reply.result);
      else waiter?.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    // A thread that died takes its writes with it: they fail (nothing was acknowledged) and the
    // next write starts a new thread.
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the filesystem writer thread exited with code ${code}`)));
    return worker;
  }
}

const writerThread = new WriterThread();

/**
 * Writes `job.body` to its temporary file, fsyncs it, writes the sidecar, renames both into
 * place and fsyncs the directory — all on the shared writer thread. Rejects with the failing
 * call's error (its `code` kept, e.g. `ENOTDIR`).
 */
export function writeDurablyInThread(job: DurableWrite): Promise<DurableWriteResult> {
  return writerThread.write(job);
}

/** The same write done on the calling thread, blocking it: for a thread whose loop serves nothing else. */
export function writeDurablyHere(job: DurableWrite): DurableWriteResult {
  return durableWrite(job, createRequire(import.meta.url));
}
