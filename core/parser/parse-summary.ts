import type { RuleSet } from './rules/rule-set.js';

/**
 * What became of one input object. `lines = accepted + ignored + rejected`, always; `ignored_by`
 * splits the ignored lines by why (blank, filtered out, an ignore rule, no rule matched).
 */
export interface ParseSummary {
  source: string;
  source_key: string;
  source_etag: string;
  date: string;
  lines: number;
  /** Lines that produced rows (a collector line gives one row per event). */
  accepted: number;
  ignored: number;
  ignored_by: { blank: number; filtered: number; rule: number; unmatched: number };
  rejected: number;
  /** Rows written per output table. */
  rows: Record<string, number>;
  outputs: string[];
  /**
   * Values (text fields, parameter names or values) in which characters no warehouse can store
   * (NUL, lone surrogates, invalid UTF-8) were replaced with U+FFFD; absent when none.
   */
  replaced?: number;
  /**
   * Records rejected alone from lines whose other records were kept (a collector line's payload);
   * each is a row of `rejected/…` as well. Absent when none.
   */
  rejected_records?: number;
  /**
   * In a batch's summary: the key this input's own summary would have had, so `source_counts`
   * keeps one row per input version however often, and in whichever batches, it was parsed.
   */
  summary_key?: string;
  /**
   * The request ids of the collector lines read (`raw/events/` objects written since raw records
   * carry them): how many lines had one, and the first `maxSummaryRequestIds` in line order, so a
   * request id found in a log leads to the input, its outputs and its `source_counts` row.
   * Absent when no line had one (logs, older raw objects).
   */
  request_ids?: { count: number; first: string[] };
}

/** Request ids a summary lists per input; the rest are only counted (a batch of thousands stays small). */
export const maxSummaryRequestIds = 100;

/** Notes one line's request id in its input's summary (bounded by `maxSummaryRequestIds`). */
export function noteRequestId(summary: ParseSummary, requestId: string): void {
  const ids = (summary.request_ids ??= { count: 0, first: [] });
  ids.count++;
  if (ids.first.length < maxSummaryRequestIds) ids.first.push(requestId);
}

/**
 * The summary of a batch of small inputs parsed in one invocation into shared outputs: one entry
 * per input (each a `ParseSummary` whose `outputs` are the batch's), so `source_counts` keeps a
 * row per input version however the inputs were grouped into batches.
 */
export interface BatchSummary {
  batch: ParseSummary[];
  outputs: string[];
}

/** A fresh summary for one input version, every count at zero. */
export function emptySummary(ruleSet: RuleSet, key: string, etag: string, date: string): ParseSummary {
  return {
    source: ruleSet.source,
    source_key: key,
    source_etag: etag,
    date,
    lines: 0,
    accepted: 0,
    ignored: 0,
    ignored_by: { blank: 0, filtered: 0, rule: 0, unmatched: 0 },
    rejected: 0,
    rows: Object.fromEntries([...ruleSet.tables.keys()].map((t) => [t, 0])),
    outputs: [],
  };
}

/** The per-input summaries of a summary object's text, whether it holds one input or a batch. */
export function inputSummaries(json: string): ParseSummary[] {
  const parsed = JSON.parse(json) as ParseSummary | BatchSummary;
  return 'batch' in parsed ? parsed.batch : [parsed];
}
