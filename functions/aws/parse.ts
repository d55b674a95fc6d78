import type { Context, S3Event } from 'aws-lambda';
import { parseInputs, type ParseInputsResult } from '../../core/parser/parse-inputs.js';
import { awsHost } from './aws-host.js';
import { fromS3Event } from './s3-event.js';

/**
 * S3 object created → parser. Failures make the invocation fail, so Lambda's retry runs the
 * event again; inputs already summarised are skipped then, so only what failed is redone.
 */
export async function handler(event: S3Event, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ParseInputsResult> {
  const host = await awsHost();
  const result = await parseInputs(
    { store: host.store, logger: host.logger, ruleSets: host.ruleSets, maxLineBytes: host.config.parser.maxLineBytes, remainingMs: () => context.getRemainingTimeInMillis() },
    fromS3Event(event),
  );
  if (result.failed.length > 0) throw new Error(`parse failed for ${result.failed.map((f) => `${f.key} (${f.code}: ${f.message})`).join('; ')}`);
  return result;
}
