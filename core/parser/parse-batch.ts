import { DeadlineError, NotFoundError, VersionChangedError } from '../errors.js';
import { rawEventsPrefix } from '../model/raw-record.js';
import { errorFields } from '../support/json-logger.js';
import { openInput } from './input-stream.js';
import { LineRouter } from './line-router.js';
import { batchOutputKeysFor, outputKeysFor, parsedMetadata, partitionDateOf } from './output-keys.js';
import { parseInputs, type ParseInputsResult } from './parse-inputs.js';
import { deadlineCheck, ruleSetsOf, storedBytes, type ParseInput, type ParseOptions } from './parse-object.js';
import { emptySummary, type BatchSummary, type ParseSummary } from './parse-summary.js';
import { planFor } from './rules/rule-plan.js';
import { ruleSetFor, type RuleSet } from './rules/rule-set.js';
import { splitLineBatches } from './split-lines.js';
import { publishOutputs, TableOutputs } from './table-outputs.js';

/** Inputs up to this size are parsed together; larger ones alone (a server log), as before. */
export const defaultBatchInputBytes = 8 * 1024 * 1024;

/** Options of a batch parse. */
export interface BatchParseOptions extends ParseOptions {
  /** Inputs of at most this many stored bytes share outputs (default 8 MiB); the collector's raw objects always do. */
  batchInputBytes?: number;
  /**
   * Hears each small input's failure with the error itself, which is then neither logged here
   * nor in the result: the caller reports it (the local runner's parse thread, per request).
   */
  onFailed?: (key: string, err: unknown) => void;
}

/** One input of a batch at the version it is parsed at, with its partition. */
interface Member {
  key: string;
  etag: string;
  size?: number;
  body?: Uint8Array;
  date: string;
  lastModified?: Date;
}

/**
 * Parses the inputs of one queue delivery (an SQS batch, an Event Hubs batch): small inputs —
 * the collector's raw objects, anything up to `batchInputBytes` — go into shared outputs, one
 * object per table, rejected file and summary per (rule set, date partition) instead of per
 * input; larger inputs are parsed alone as `parseInputs` does.
 *
 * Each member is parsed whole in memory before any of its rows reach the shared outputs, so a
 * member that fails (gone, replaced, unreadable) leaves nothing behind and is reported alone
 * while the others publish. The batch summary keeps one entry per member, and every row keeps
 * its own key, so an input delivered again in another batch doubles neither rows nor counts.
 * A group of one member is published exactly as `parseObject` would publish it.
 */
export async function parseBatch(options: BatchParseOptions, inputs: readonly ParseInput[]): Promise<ParseInputsResult> {
  const ruleSets = ruleSetsOf(options);
  const result: ParseInputsResult = { parsed: [], skipped: [], ignored: [], superseded: [], failed: [] };
  const limit = options.batchInputBytes ?? defaultBatchInputBytes;
  const groups = new Map<string, { ruleSet: RuleSet; members: Member[] }>();
  const large: ParseInput[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    const ruleSet = ruleSetFor(ruleSets, input.key);
    if (!ruleSet) {
      result.ignored.push(input.key);
      continue;
    }
    if (seen.has(`${input.key}\0${input.etag ?? ''}`)) continue; // a queue may deliver a message twice in one batch
    seen.add(`${input.key}\0${input.etag ?? ''}`);
    if (!input.key.startsWith(rawEventsPrefix) && !(input.size !== undefined && input.size <= limit)) {
      large.push(input);
      continue;
    }
    const member = await memberOf(options, input, result);
    if (!member) continue;
    const id = `${ruleSet.source}\0${member.date}`;
    const group = groups.get(id) ?? groups.set(id, { ruleSet, members: [] }).get(id)!;
    group.members.push(member);
  }
  for (const { ruleSet, members } of groups.values()) await parseGroup(options, ruleSet, members, result);
  if (large.length > 0) merge(result, await parseInputs({ ...options, ruleSets }, large));
  return result;
}

/**
 * The version, partition and arrival of a small input. A raw object's key holds its date and
 * arrival time, so with the notification's ETag it needs no request; other inputs are asked
 * (HEAD) for their last-modified time, which their outputs are named by.
 */
async function memberOf(options: BatchParseOptions, input: ParseInput, result: ParseInputsResult): Promise<Member | undefined> {
  const date = partitionDateOf(input.key);
  if (input.etag !== undefined && date !== undefined && input.key.startsWith(rawEventsPrefix)) return { key: input.key, etag: input.etag, size: input.size, body: input.body, date };
  try {
    const info = await options.store.head(input.key);
    if (input.etag !== undefined && input.etag !== info.etag) {
      result.superseded.push(input.key);
      return undefined;
    }
    return { key: input.key, etag: info.etag, size: info.size, body: input.etag === info.etag ? input.body : undefined, date: date ?? partitionDateOf(input.key, info.lastModified)!, lastModified: info.lastModified };
  } catch (err) {
    fail(options, result, input.key, err);
    return undefined;
  }
}

async function parseGroup(options: BatchParseOptions, ruleSet: RuleSet, members: Member[], result: ParseInputsResult): Promise<void> {
  const plan = planFor(ruleSet);
  const outputs = new TableOutputs(plan, options.spoolDir);
  const maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  const summaries: ParseSummary[] = [];
  const seconds: number[] = [];
  const done: Member[] = [];
  try {
    for (const member of members.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      try {
        // The rest of the batch is left for the queue's retry once publishing time runs short.
        deadlineCheck(options, member.key)('before the next input of the batch');
        const started = performance.now();
        const router = new LineRouter(plan, ruleSet, emptySummary(ruleSet, member.key, member.etag, member.date), maxLineBytes);
        const input = await openInput(await storedBytes(options.store, member, member.etag), maxLineBytes, member.size);
        for await (const lines of splitLineBatches(input.body, maxLineBytes)) for (const line of lines) router.route(line);
        const damage = input.damage();
        if (damage) {
          const { line, reason } = router.damaged(damage);
          options.logger.warn('input is damaged', { key: member.key, line: line.number, reason });
        }
        await outputs.write(router.takeRows(), router.summary);
        summaries.push(router.finish());
        seconds.push((performance.now() - started) / 1000);
        done.push(member);
      } catch (err) {
        fail(options, result, member.key, err);
      }
    }
    if (done.length === 0) return;
    const single = done.length === 1;
    const keys = single ? outputKeysFor(done[0]!.key, done[0]!.etag, done[0]!.lastModified ?? new Date(`${done[0]!.date}T00:00:00Z`)) : batchOutputKeysFor(done, done[0]!.date);
    const finished = await outputs.finish(keys);
    const outputKeys = finished.map((o) => o.key);
    summaries.forEach((s, i) => {
      s.outputs = outputKeys;
      if (!single) s.summary_key = outputKeysFor(done[i]!.key, done[i]!.etag, done[i]!.lastModified ?? new Date(`${done[i]!.date}T00:00:00Z`)).summary;
    });
    const body: ParseSummary | BatchSummary = single ? summaries[0]! : { batch: summaries, outputs: outputKeys };
    const source: Record<string, string> = single
      ? { [parsedMetadata.sourceKey]: encodeURIComponent(done[0]!.key), [parsedMetadata.sourceEtag]: done[0]!.etag }
      : { [parsedMetadata.sourceKey]: encodeURIComponent(keys.summary) };
    await publishOutputs(options.store, finished, source, { key: keys.summary, body: `${JSON.stringify(body)}\n`, ...(single ? {} : { rows: summaries.length }) });
    for (const m of done) result.parsed.push(m.key);
    if (options.onParsed) summaries.forEach((s, i) => options.onParsed!(s, seconds[i]!));
    options.logger.info('parsed a batch', { source: ruleSet.source, inputs: done.length, summary: keys.summary, rows: rowTotals(summaries) });
  } catch (err) {
    // Publishing failed: nothing of the batch is marked parsed, so every member is retried.
    for (const m of done) fail(options, result, m.key, err);
  } finally {
    await outputs.dispose();
  }
}

function rowTotals(summaries: readonly ParseSummary[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const s of summaries) for (const [table, rows] of Object.entries(s.rows)) totals[table] = (totals[table] ?? 0) + rows;
  return totals;
}

/** Files a member's failure where `parseInputs` would: gone → ignored, replaced → superseded, else failed. */
function fail(options: BatchParseOptions, result: ParseInputsResult, key: string, err: unknown): void {
  if (options.onFailed) return options.onFailed(key, err);
  if (err instanceof NotFoundError && err.context.key === key) {
    result.ignored.push(key);
    return;
  }
  if (err instanceof VersionChangedError) {
    options.logger.info('input replaced since its notification; left to the newer version', { key, ...err.context });
    result.superseded.push(key);
    return;
  }
  if (!(err instanceof DeadlineError)) options.logger.error('parse failed', { key, ...errorFields(err) });
  const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'internal';
  result.failed.push({ key, code, message: (err as Error).message });
}

function merge(into: ParseInputsResult, from: ParseInputsResult): void {
  into.parsed.push(...from.parsed);
  into.skipped.push(...from.skipped);
  into.ignored.push(...from.ignored);
  into.superseded.push(...from.superseded);
  into.failed.push(...from.failed);
}
