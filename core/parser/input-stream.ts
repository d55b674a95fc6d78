import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';

/** Where a gzip'd input stopped being readable. */
export interface GzipDamage {
  /** zlib's reason, e.g. "unexpected end of file". */
  reason: string;
  /** Decompressed bytes handed on as whole lines before the damage. */
  readableBytes: number;
  /** The line the damage cut short (bytes after the last LF), if any. */
  fragment: Buffer;
}

/** An input's decompressed bytes, and what (if anything) was unreadable once they have been read. */
export interface InputStream {
  body: Readable;
  damage(): GzipDamage | undefined;
}

// zlib's data errors: the bytes are bad, so every retry would fail the same way.
const dataErrorCodes = new Set(['Z_DATA_ERROR', 'Z_BUF_ERROR', 'Z_NEED_DICT']);

/**
 * Inputs up to this size (stored bytes) are read whole and inflated in one call, when they
 * inflate to at most `smallInflatedBytes`: for a small object the streaming inflate's pool jobs
 * and generator layers cost more than the inflating.
 */
const smallInputBytes = 1024 * 1024;
const smallInflatedBytes = 16 * 1024 * 1024;

/**
 * Opens an input for line splitting: gzip is sniffed by its magic bytes (not the key's
 * extension) and inflated. A corrupt or truncated gzip is not an error here: the whole lines
 * before the damage are handed on, the cut line is held back, and `damage()` tells the parser
 * what to reject, so a damaged object is summarised once (deterministically) instead of failing
 * every retry. Storage errors still throw. `size`, when known, lets a small input be read whole.
 */
export async function openInput(stream: Readable, maxLineBytes: number, size?: number): Promise<InputStream> {
  if (size !== undefined && size <= smallInputBytes) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return { body: Readable.from([bytes], { objectMode: false }), damage: () => undefined };
    try {
      return { body: Readable.from([gunzipSync(bytes, { maxOutputLength: smallInflatedBytes })], { objectMode: false }), damage: () => undefined };
    } catch {
      // Damaged, or inflating beyond the bound: the streaming path finds what can be read, in bounded memory.
      stream = Readable.from([bytes], { objectMode: false });
    }
  }
  return openStream(stream, maxLineBytes);
}

async function openStream(stream: Readable, maxLineBytes: number): Promise<InputStream> {
  const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer | undefined = first.done ? undefined : first.value;
  const whole = Readable.from(
    (async function* () {
      if (head) yield head;
      yield* { [Symbol.asyncIterator]: () => iterator };
    })(),
    { objectMode: false },
  );
  if (!(head && head[0] === 0x1f && head[1] === 0x8b)) return { body: whole, damage: () => undefined };
  let damage: GzipDamage | undefined;
  const pieces = Readable.from(inPieces(whole, compressedPieceBytes), { objectMode: false });
  const body = Readable.from(inflateWholeLines(pieces, maxLineBytes, (d) => (damage = d)), { objectMode: false });
  return { body, damage: () => damage };
}

/**
 * How much of a damaged gzip zlib hands back depends on how its input was cut: fed in small
 * pieces (a network store's chunks) it gave back less of a truncated object, and less again when
 * the parser read slowly. Cut into 64 KiB pieces, as the filesystem store reads, it gave back all
 * it could in every case measured, so a retried trigger on any store writes the same outputs.
 */
const compressedPieceBytes = 64 * 1024;

/** `source` re-cut into pieces of `pieceBytes` (the last may be shorter). */
async function* inPieces(source: AsyncIterable<Buffer>, pieceBytes: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let rest = chunk;
    if (pendingBytes > 0) {
      const need = pieceBytes - pendingBytes;
      if (rest.length < need) {
        pending.push(rest);
        pendingBytes += rest.length;
        continue;
      }
      pending.push(rest.subarray(0, need));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      rest = rest.subarray(need);
    }
    for (; rest.length >= pieceBytes; rest = rest.subarray(pieceBytes)) yield rest.subarray(0, pieceBytes);
    if (rest.length > 0) {
      pending = [rest];
      pendingBytes = rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

async function* inflateWholeLines(compressed: Readable, maxLineBytes: number, onDamage: (damage: GzipDamage) => void): AsyncGenerator<Buffer> {
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  // The error, if any, surfaces from iterating `gunzip` below.
  pipeline(compressed, gunzip).catch(() => undefined);
  let held: Buffer[] = [];
  let heldBytes = 0;
  let handedOn = 0;
  try {
    for await (const inflated of gunzip as AsyncIterable<Buffer>) {
      let chunk = inflated;
      if (held.length > 0) {
        // The held line ends in this chunk (or has passed the cap, and the splitter rejects it
        // anyway): hand it on joined with its end only, so the rest of the chunk is not copied.
        const first = chunk.indexOf(10);
        if (first < 0 && heldBytes + chunk.length <= maxLineBytes) {
          held.push(chunk);
          heldBytes += chunk.length;
          continue;
        }
        const end = first < 0 ? chunk.length : first + 1;
        const joined = Buffer.concat([...held, chunk.subarray(0, end)]);
        held = [];
        heldBytes = 0;
        handedOn += joined.length;
        yield joined;
        chunk = chunk.subarray(end);
      }
      // Hand on whole lines up to the last LF and hold the rest until it is known to be whole.
      const lf = chunk.lastIndexOf(10);
      if (lf < 0 && chunk.length <= maxLineBytes) {
        if (chunk.length > 0) held.push(chunk);
        heldBytes = chunk.length;
        continue;
      }
      const cut = lf < 0 ? chunk.length : lf + 1;
      if (cut < chunk.length) {
        held = [chunk.subarray(cut)];
        heldBytes = chunk.length - cut;
      }
      handedOn += cut;
      yield chunk.subarray(0, cut);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === undefined || !dataErrorCodes.has(code)) throw err;
    onDamage({ reason: (err as Error).message, readableBytes: handedOn, fragment: Buffer.concat(held) });
    return;
  }
  if (heldBytes > 0) yield Buffer.concat(held);
}
