import type { DialectOptions } from '../parser/dialects/registry.js';
import { compileRules } from '../parser/rules/compile-rules.js';
import type { RuleSet } from '../parser/rules/rule-set.js';
import { storageLayout } from '../storage-layout.js';

/**
 * The rules that turn the records of refused requests and rejected rows (`raw/rejections/`,
 * JSON lines written by `RejectionLog`) into the `rejections` table, through the same parse and
 * load as every other input. `requests` is 1 for a request or row stored one by one and N for a
 * line that sums the N of one reason past a bound; `status` is null for a rejected row.
 */
/** The source name of the rejection records' inputs. */
export const rejectionSource = 'ferry_rejections';

export const builtinRejectionRules = `source: ${rejectionSource}
description: requests the collector refused
prefix: ${storageLayout.rawRejections}
dialects:
  - name: refused_request
    type: json
    require: [at, kind, reason]
tables:
  rejections:
    columns:
      time: { type: timestamp, from: at, required: true }
      kind: { type: text, required: true }
      status: bigint
      reason: { type: text, required: true }
      requests: { type: bigint, required: true }
      message: text
      request_id: text
      bytes: bigint
      ip: text
      body_prefix: text
rules:
  - table: rejections
`;

/**
 * `sets` plus the rejection rules, unless a rules file already reads their prefix: what the
 * local runner (which stores its collector's refused requests) and its commands parse and load.
 */
export function withRejectionRules(sets: readonly RuleSet[], options: DialectOptions): RuleSet[] {
  if (sets.some((s) => s.prefix === storageLayout.rawRejections)) return [...sets];
  // `rejections` is reserved: no rules file but these may write to it.
  return [...sets, compileRules(builtinRejectionRules, 'built-in rejection rules', options, new Set(['rejections']))];
}
