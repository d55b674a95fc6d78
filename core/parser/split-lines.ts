import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** One line of input and its 1-based number; `tooLong` lines carry only a prefix of their text. */
export interface InputLine {
  number: number;
  text: string;
  tooLong: boolean;
}

/**
 * Splits a byte stream into lines (LF or CRLF) without holding more than `maxLineBytes` of any
 * one line: a longer line is yielded once, flagged `tooLong`, with its first bytes only.
 */
export async function* splitLines(input: Readable, maxLineBytes: number): AsyncGenerator<InputLine> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let pendingBytes = 0;
  let overflow = false;
  let number = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    let text = decoder.write(chunk);
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      number++;
      const piece = text.slice(0, newline);
      if (overflow) {
        yield { number, text: pending, tooLong: true };
      } else {
        let line = pending + piece;
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (pendingBytes + Buffer.byteLength(piece) > maxLineBytes) yield { number, text: line.slice(0, 200), tooLong: true };
        else yield { number, text: line, tooLong: false };
      }
      pending = '';
      pendingBytes = 0;
      overflow = false;
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    if (!overflow) {
      pendingBytes += Buffer.byteLength(text);
      if (pendingBytes > maxLineBytes) {
        overflow = true;
        pending = (pending + text).slice(0, 200);
      } else pending += text;
    }
  }
  const rest = decoder.end();
  if (!overflow) {
    pending += rest;
    pendingBytes += Buffer.byteLength(rest);
  }
  if (pending.length > 0 || overflow) {
    number++;
    if (pending.endsWith('\r')) pending = pending.slice(0, -1);
    yield { number, text: pending, tooLong: overflow || pendingBytes > maxLineBytes };
  }
}
