/** What kind of series a metric is. */
export type MetricKind = 'counter' | 'histogram' | 'gauge';

/** One metric: its kind, the labels it takes, its help text and, for histograms, the buckets. */
export interface MetricDefinition {
  kind: MetricKind;
  help: string;
  labels: readonly string[];
  /** Histogram bucket upper bounds. */
  buckets?: readonly number[];
  /** CloudWatch unit (EMF): Count, Seconds, Bytes. */
  unit: 'Count' | 'Seconds' | 'Bytes';
}

const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
// Transform runs and model builds take minutes where a parse takes seconds.
const longSeconds = [...seconds, 600, 1800, 3600];
const sizes = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

/**
 * Every metric Ferry records, named the Prometheus way (`ferry_<stage>_<what>_<unit>`). One
 * catalogue so that every adapter exports the same names, labels and units. Labels stay of
 * bounded cardinality: status codes, short reason codes, source and table names — never keys,
 * sessions or IPs.
 */
export const metricCatalogue = {
  ferry_collector_requests_total: { kind: 'counter', help: 'Track requests answered, by HTTP status and reason (ok, or the refusal reason code).', labels: ['status', 'reason'], unit: 'Count' },
  ferry_collector_events_accepted_total: { kind: 'counter', help: 'Events (payloads) acknowledged with 200: stored in object storage.', labels: [], unit: 'Count' },
  ferry_collector_bytes_total: { kind: 'counter', help: 'Request body bytes of track requests, by outcome (accepted or refused).', labels: ['outcome'], unit: 'Bytes' },
  ferry_collector_batch_events: { kind: 'histogram', help: 'Events per accepted track request.', labels: [], buckets: sizes, unit: 'Count' },
  ferry_collector_put_seconds: { kind: 'histogram', help: 'Duration of the collector\'s object storage puts (group-committed raw objects).', labels: [], buckets: seconds, unit: 'Seconds' },
  ferry_collector_rejections_logged_total: { kind: 'counter', help: 'Refused requests logged one by one; past the rate limit they are only counted in ferry_collector_requests_total.', labels: [], unit: 'Count' },
  ferry_parser_inputs_total: { kind: 'counter', help: 'Inputs parsed, by source (events, or the rules file\'s source).', labels: ['source'], unit: 'Count' },
  ferry_parser_lines_total: { kind: 'counter', help: 'Input lines read, by source.', labels: ['source'], unit: 'Count' },
  ferry_parser_lines_by_outcome_total: { kind: 'counter', help: 'Input lines by source and outcome (accepted, ignored, rejected).', labels: ['source', 'outcome'], unit: 'Count' },
  ferry_parser_parse_seconds: { kind: 'histogram', help: 'Duration of one input\'s parse.', labels: ['source'], buckets: seconds, unit: 'Seconds' },
  ferry_parser_failures_total: { kind: 'counter', help: 'Parses that failed (retried later).', labels: [], unit: 'Count' },
  ferry_parser_backlog_inputs: { kind: 'gauge', help: 'Inputs stored without a parse summary, by input prefix (at the last scrape).', labels: ['prefix'], unit: 'Count' },
  ferry_parser_backlog_oldest_seconds: { kind: 'gauge', help: 'Age of the oldest input without a parse summary, by input prefix (0 when none).', labels: ['prefix'], unit: 'Seconds' },
  ferry_loader_files_total: { kind: 'counter', help: 'Parsed files loaded, by table.', labels: ['table'], unit: 'Count' },
  ferry_loader_rows_total: { kind: 'counter', help: 'Rows copied into the staging step and rows inserted, by table.', labels: ['table', 'step'], unit: 'Count' },
  ferry_loader_quarantined_total: { kind: 'counter', help: 'Files the warehouse refused and the loader quarantined, by table.', labels: ['table'], unit: 'Count' },
  ferry_loader_failures_total: { kind: 'counter', help: 'Load batches rolled back, by table.', labels: ['table'], unit: 'Count' },
  ferry_loader_tick_seconds: { kind: 'histogram', help: 'Duration of one load tick (every table).', labels: [], buckets: seconds, unit: 'Seconds' },
  ferry_loader_unloaded_files: { kind: 'gauge', help: 'Parsed files not yet loaded nor quarantined, by table (at the last scrape).', labels: ['table'], unit: 'Count' },
  ferry_loader_unloaded_oldest_seconds: { kind: 'gauge', help: 'Age of the oldest parsed file not yet loaded, by table (0 when none).', labels: ['table'], unit: 'Seconds' },
  ferry_transform_models_total: { kind: 'counter', help: 'Models due in a transform run, by outcome (built, failed, skipped, waiting, exhausted, deferred).', labels: ['outcome'], unit: 'Count' },
  ferry_transform_checks_total: { kind: 'counter', help: 'Checks run on freshly built models, by result (pass, fail).', labels: ['result'], unit: 'Count' },
  ferry_transform_model_seconds: { kind: 'histogram', help: 'Duration of one model\'s build and its checks.', labels: [], buckets: longSeconds, unit: 'Seconds' },
  ferry_transform_run_seconds: { kind: 'histogram', help: 'Duration of one transform run (every due model), including a run another held the lease for.', labels: [], buckets: longSeconds, unit: 'Seconds' },
} as const satisfies Record<string, MetricDefinition>;

/** The name of a metric in the catalogue. */
export type MetricName = keyof typeof metricCatalogue;
