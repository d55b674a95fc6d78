import { NotFoundError, VersionChangedError } from '../errors.js';
import { errorFields } from '../support/json-logger.js';
import { outputKeysFor } from './output-keys.js';
import { parseObject, type ParseInput, type ParseOptions } from './parse-object.js';
import { ruleSetFor } from './rules/rule-set.js';
import { compileRuleSets } from './rules/load-rules.js';
import { defaultClockSkewThresholdS } from '../model/flatten-event.js';

/** What became of a batch of blob-created notifications. */
export interface ParseInputsResult {
  parsed: string[];
  /** Already parsed at this version (a duplicate or retried notification). */
  skipped: string[];
  /** No rules file handles the key (a notification wider than the rules), or it is gone. */
  ignored: string[];
  /** Replaced since the notification: the newer version's own notification parses it. */
  superseded: string[];
  /** Failed, with the reason; the platform should retry these. */
  failed: { key: string; code: string; message: string }[];
}

/**
 * Handles one blob-created trigger's inputs: each key no rules file handles is ignored, each
 * version already summarised is skipped (so a retry redoes only what failed), the rest parsed.
 * One failure does not stop the others; the caller turns `failed` into its platform's retry.
 */
export async function parseInputs(options: ParseOptions, inputs: readonly ParseInput[]): Promise<ParseInputsResult> {
  const ruleSets = options.ruleSets ?? compileRuleSets([], { clockSkewThresholdS: defaultClockSkewThresholdS });
  const result: ParseInputsResult = { parsed: [], skipped: [], ignored: [], superseded: [], failed: [] };
  for (const input of inputs) {
    if (!ruleSetFor(ruleSets, input.key)) {
      result.ignored.push(input.key);
      continue;
    }
    try {
      const info = await options.store.head(input.key);
      const etag = input.etag ?? info.etag;
      if (await exists(options, outputKeysFor(input.key, etag, info.lastModified).summary)) {
        result.skipped.push(input.key);
        continue;
      }
      await parseObject({ ...options, ruleSets }, { key: input.key, etag });
      result.parsed.push(input.key);
    } catch (err) {
      if (err instanceof NotFoundError && err.context.key === input.key) {
        result.ignored.push(input.key); // deleted since the notification: nothing to parse
        continue;
      }
      if (err instanceof VersionChangedError) {
        // Retrying cannot bring the old bytes back; parsing the new ones under the old version's
        // keys would count them twice in the source counts.
        options.logger.info('input replaced since its notification; left to the newer version', { key: input.key, ...err.context });
        result.superseded.push(input.key);
        continue;
      }
      options.logger.error('parse failed', { key: input.key, ...errorFields(err) });
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'internal';
      result.failed.push({ key: input.key, code, message: (err as Error).message });
    }
  }
  return result;
}

async function exists(options: ParseOptions, key: string): Promise<boolean> {
  try {
    await options.store.head(key);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
