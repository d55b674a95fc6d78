import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { utf8LongerThan } from '../support/utf8-length.js';

/** One line of input and its 1-based number; `tooLong` lines carry only a prefix of their text. */
export interface InputLine {
  number: number;
  text: string;
  tooLong: boolean;
}

/** How much of an over-long line is kept, for the rejected file. */
const keptPrefix = 200;

/**
 * Input is decoded at most this many bytes at a time: V8 puts longer strings in its large-object
 * space, one mmap each, which makes decoding many times slower.
 */
const decodeBytes = 64 * 1024;

/**
 * Splits a byte stream into lines (LF or CRLF), one batch per input chunk so the caller can work
 * synchronously through a chunk. Never holds more than `maxLineBytes` of any one line: a longer
 * line is yielded once, flagged `tooLong`, with its first bytes only.
 */
export async function* splitLineBatches(input: Readable, maxLineBytes: number): AsyncGenerator<InputLine[]> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let overflow = false;
  let number = 0;
  const finishLine = (text: string, batch: InputLine[]) => {
    number++;
    if (overflow) batch.push({ number, text: pending, tooLong: true });
    else {
      let line = pending.length > 0 ? pending + text : text;
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      batch.push(utf8LongerThan(line, maxLineBytes) ? { number, text: line.slice(0, keptPrefix), tooLong: true } : { number, text: line, tooLong: false });
    }
    pending = '';
    overflow = false;
  };
  for await (const whole of input as AsyncIterable<Buffer>) {
    for (let offset = 0; offset < whole.length; offset += decodeBytes) {
      const chunk = whole.length <= decodeBytes ? whole : whole.subarray(offset, offset + decodeBytes);
      const text = decoder.write(chunk);
      const batch: InputLine[] = [];
      let start = 0;
      let newline = text.indexOf('\n');
      while (newline >= 0) {
        finishLine(text.slice(start, newline), batch);
        start = newline + 1;
        newline = text.indexOf('\n', start);
      }
      const rest = start === 0 ? text : text.slice(start);
      if (!overflow) {
        pending += rest;
        if (utf8LongerThan(pending, maxLineBytes)) {
          overflow = true;
          pending = pending.slice(0, keptPrefix);
        }
      }
      if (batch.length > 0) yield batch;
    }
  }
  const rest = decoder.end();
  if (!overflow) pending += rest;
  if (pending.length > 0 || overflow) {
    const batch: InputLine[] = [];
    finishLine('', batch);
    yield batch;
  }
}

/** `splitLineBatches`, one line at a time. */
export async function* splitLines(input: Readable, maxLineBytes: number): AsyncGenerator<InputLine> {
  for await (const batch of splitLineBatches(input, maxLineBytes)) yield* batch;
}
