import { Readable } from 'node:stream';
import { DeadlineError, ParseError, VersionChangedError } from '../errors.js';
import { defaultClockSkewThresholdS } from '../model/flatten-event.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Logger } from '../ports/logger.js';
import { openInput } from './input-stream.js';
import { LineRouter } from './line-router.js';
import { outputKeysFor, parsedMetadata } from './output-keys.js';
import { emptySummary, type ParseSummary } from './parse-summary.js';
import { compileRuleSets } from './rules/load-rules.js';
import { planFor } from './rules/rule-plan.js';
import { ruleSetFor, type RuleSet } from './rules/rule-set.js';
import { splitLineBatches } from './split-lines.js';
import { publishOutputs, TableOutputs } from './table-outputs.js';

export type { ParseSummary } from './parse-summary.js';

/** Dependencies and limits of the parser. */
export interface ParseOptions {
  store: BlobStore;
  logger: Logger;
  /** Compiled rules; the built-in event rules when omitted. */
  ruleSets?: readonly RuleSet[];
  /** Lines longer than this many bytes are rejected without being buffered. */
  maxLineBytes?: number;
  /** Where output is spooled before upload (the OS temp dir by default). */
  spoolDir?: string;
  /** Milliseconds the host leaves this invocation (Lambda's `getRemainingTimeInMillis`). */
  remainingMs?: () => number;
  /** Time kept in hand to publish the outputs; below it the parse is abandoned (default 10 s). */
  reserveMs?: number;
  /** Hears each input once its outputs are published, with the seconds its parse took (the metrics). */
  onParsed?: (summary: ParseSummary, seconds: number) => void;
}

/**
 * Input object to parse: its key and, when the trigger knows it, its version tag. With `etag`,
 * only that version is parsed: if the key holds another by now, `parseObject` throws
 * `VersionChangedError` and writes nothing (the newer version has its own notification).
 * Without it, the current version.
 */
export interface ParseInput {
  key: string;
  etag?: string;
  /** Stored bytes, when the notification says (S3 and Event Grid do): small inputs are parsed in batches. */
  size?: number;
  /**
   * The object's stored bytes at `etag`, when the caller has them in hand (the local runner, from
   * the put that stored them): parsed instead of reading the object back. Ignored without `etag`.
   * `parseObject` still asks the store for the version; `parseBatch` takes a raw object's bytes
   * as the version they name without asking (its key is never written twice), as it takes the
   * notification's ETag.
   */
  body?: Uint8Array;
}

let defaultRuleSets: RuleSet[] | undefined;

/** The rule sets in force: the given ones, else the built-in event rules. */
export function ruleSetsOf(options: Pick<ParseOptions, 'ruleSets'>): readonly RuleSet[] {
  return options.ruleSets ?? (defaultRuleSets ??= compileRuleSets([], { clockSkewThresholdS: defaultClockSkewThresholdS }));
}

/** The rule set handling `key`; a `ParseError` naming the prefixes when none does. */
export function ruleSetHandling(ruleSets: readonly RuleSet[], key: string): RuleSet {
  const ruleSet = ruleSetFor(ruleSets, key);
  if (!ruleSet) throw new ParseError(`no rules file handles ${key} (prefixes: ${ruleSets.map((s) => s.prefix).join(', ')})`, { key });
  return ruleSet;
}

/** Throws `DeadlineError` when less than the publishing reserve is left of the invocation. */
export function deadlineCheck(options: ParseOptions, key: string): (stage: string) => void {
  const reserveMs = options.reserveMs ?? 10_000;
  return (stage) => {
    const left = options.remainingMs?.();
    if (left !== undefined && left < reserveMs) throw new DeadlineError(`stopped ${stage}: ${left} ms left, ${reserveMs} ms needed to publish; nothing was published`, { key });
  };
}

/**
 * Parses one input object with the rule set that handles its key: lines are routed to rows
 * (`LineRouter`), written to one gzip'd CSV per table plus the rejected lines (`TableOutputs`),
 * and published with a summary written last that marks the input as done. Deterministic: the
 * same input version gives byte-identical objects under the same keys. Memory stays flat:
 * input is streamed, output spooled to disk.
 */
export async function parseObject(options: ParseOptions, input: ParseInput): Promise<ParseSummary> {
  const { store, logger } = options;
  const started = performance.now();
  const ruleSet = ruleSetHandling(ruleSetsOf(options), input.key);
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const checkDeadline = deadlineCheck(options, input.key);
  const info = await store.head(input.key);
  if (input.etag !== undefined && input.etag !== info.etag) throw new VersionChangedError(input.key, input.etag, info.etag);
  // Outputs are named by this version, and the read below fails rather than return another.
  const etag = info.etag;
  const keys = outputKeysFor(input.key, etag, info.lastModified);
  const plan = planFor(ruleSet);
  const router = new LineRouter(plan, ruleSet, emptySummary(ruleSet, input.key, etag, keys.date), maxLineBytes);
  const outputs = new TableOutputs(plan, options.spoolDir);
  try {
    const inputStream = await openInput(await storedBytes(store, input, etag), maxLineBytes, info.size);
    for await (const batch of splitLineBatches(inputStream.body, maxLineBytes)) {
      for (const line of batch) router.route(line);
      await outputs.write(router.takeRows(), router.summary);
      checkDeadline(`at line ${router.summary.lines}`);
    }
    const damage = inputStream.damage();
    if (damage) {
      const { line, reason } = router.damaged(damage);
      await outputs.write(router.takeRows(), router.summary);
      logger.warn('input is damaged', { key: input.key, line: line.number, reason });
    }
    const summary = router.finish();
    checkDeadline('before publishing');
    const finished = await outputs.finish(keys);
    summary.outputs = finished.map((o) => o.key);
    const source = { [parsedMetadata.sourceKey]: encodeURIComponent(input.key), [parsedMetadata.sourceEtag]: etag };
    await publishOutputs(store, finished, source, { key: keys.summary, body: `${JSON.stringify(summary)}\n` });
    logger.info('parsed', { key: input.key, source: ruleSet.source, lines: summary.lines, rows: summary.rows, ignored: summary.ignored, rejected: summary.rejected });
    options.onParsed?.(summary, (performance.now() - started) / 1000);
    return summary;
  } finally {
    await outputs.dispose();
  }
}

/** The bytes of `input` at version `etag`: those in hand when they are of that version, else read from the store. */
export async function storedBytes(store: BlobStore, input: ParseInput, etag: string): Promise<Readable> {
  if (input.body !== undefined && input.etag === etag) return Readable.from([Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)], { objectMode: false });
  return store.get(input.key, { etag });
}

/** The summary key that marks `key` at version `etag` as parsed. */
export function summaryKeyFor(key: string, etag: string, lastModified: Date): string {
  return outputKeysFor(key, etag, lastModified).summary;
}
