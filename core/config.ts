import { isIP } from 'node:net';
import type { CollectorSettings } from './collector/collector.js';
import type { SignatureMode } from './collector/signature.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { readCorsOrigins, type CorsPolicy } from './http/cors.js';
import { warehouseKinds, type WarehouseKind } from './loader/load-dialect.js';
import type { LogLevel } from './ports/logger.js';

/** Ferry's configuration, read once from the environment at start-up. */
export interface FerryConfig {
  /** HTTP port of the local runner's collector. */
  port: number;
  /** Address the local runner's collector listens on. */
  host: string;
  /** Root of the local object store and the embedded warehouse. */
  dataDir: string;
  /** A timed load lists by arrival from this many seconds back (`LoadTick`). */
  loadOverlapS: number;
  /** Seconds between load runs. */
  loadIntervalS: number;
  /** Days of date partitions a timer's load run lists; 0 lists every partition. */
  loadLookbackDays: number;
  /** PostgreSQL URL; when unset the embedded warehouse (a PostgreSQL server under the data dir) is used. */
  databaseUrl: string | undefined;
  /** Port of the embedded warehouse's server; undefined keeps the one chosen when it was made. */
  embeddedPort: number | undefined;
  /** Warehouse schema for Ferry's tables and manifest. */
  warehouseSchema: string;
  /** Which warehouse `DATABASE_URL` points at, and what its bulk path needs. */
  warehouse: WarehouseSettings;
  logLevel: LogLevel;
  /** Collector protocol, limits and group-commit settings. */
  collector: CollectorSettings;
  parser: ParserSettings;
  /**
   * The store `ferry serve` writes to (`FERRY_STORE_URL`): a directory, S3 or Azure Blob;
   * undefined is the data dir's own store.
   */
  storeUrl: string | undefined;
  /** A second store the collector mirrors to (hybrid runs, moves between clouds). */
  mirror: MirrorSettings | undefined;
  /** Web origins allowed to call the collector from a browser. */
  cors: CorsPolicy;
  /** SQL models run after the loads (`FERRY_MODELS`). */
  transform: TransformSettings;
  /** Days `ferry.runs` keeps a stage run's record. */
  runsRetentionDays: number;
  /** Who may read the run view and `/metrics`, and when a table counts as stale. */
  ops: OperatorSettings;
  /** Where the AWS hosts (and an S3 `FERRY_STORE_URL`) keep their data. */
  aws: AwsSettings;
  /** Where the Azure hosts (and a Blob `FERRY_STORE_URL`) keep their data, and how the Functions app triggers. */
  azure: AzureSettings;
}

/** The run view and metrics pages (`FERRY_OPS_TOKEN`, `FERRY_FRESHNESS_S`). */
export interface OperatorSettings {
  /** Bearer token the run view and `/metrics` require; unset: only this machine (local), off (clouds). */
  token: string | undefined;
  /** A table whose last load is older than this is shown stale. */
  freshnessS: number;
}

/** Where the SQL models are and how their runs retry (`FERRY_MODELS`, `FERRY_TRANSFORM_*`). */
export interface TransformSettings {
  /** Folder of `<name>.sql` models; none: no transforms. */
  modelsDir: string | undefined;
  /** Schema the models are built in. */
  modelsSchema: string;
  /** Attempts a failing model gets per UTC day. */
  maxAttemptsPerDay: number;
  /** Seconds before a failed model's next attempt; doubling with each failure, up to an hour. */
  retryDelayS: number;
  /** Models built at the same time, at most. */
  parallelism: number;
}

/** `FERRY_STORE_URL`, checked for its scheme; opening it is the host's (`openStoreAt`). */
function readStoreUrl(env: Env, problems: ConfigProblem[]): string | undefined {
  const url = env.FERRY_STORE_URL?.trim();
  if (!url) return undefined;
  if (!/^(file|s3|https?):\/\//.test(url)) problems.push({ key: 'FERRY_STORE_URL', reason: `must be file://, s3:// or an https:// blob container URL, got "${url}"` });
  return url;
}

/** Where the collector mirrors raw batches (`FERRY_MIRROR_URL`). */
export interface MirrorSettings {
  url: string;
  azureConnectionString: string | undefined;
}

/** The warehouse's kind and the settings of its bulk path. */
export interface WarehouseSettings {
  kind: WarehouseKind;
  /** Redshift: role it assumes to read the S3 objects. */
  redshiftIamRole?: string;
  /** Redshift: the bucket's region when it differs from the cluster's. */
  redshiftRegion?: string;
}

/** How the parser reads inputs. */
export interface ParserSettings {
  /** YAML rules files, each handling the inputs under its prefix (built-in event rules otherwise). */
  rulesFiles: string[];
  /** Client clock skew (seconds) beyond which `at_corrected` is corrected. */
  clockSkewThresholdS: number;
  /** Longest input line in bytes; longer lines are rejected, not buffered. */
  maxLineBytes: number;
}

/** One documented setting: its variable, default and reader. docs/configuration.md lists them all. */
export interface SettingSpec {
  env: string;
  default: string | undefined;
  description: string;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number, problems: ConfigProblem[]): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) {
    problems.push({ key: name, reason: `must be a whole number, got "${raw}"` });
    return fallback;
  }
  const value = Number(raw.trim());
  if (value < min || value > max) problems.push({ key: name, reason: `must be between ${min} and ${max}, got ${value}` });
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: ConfigProblem[]): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if ((allowed as readonly string[]).includes(raw.trim())) return raw.trim() as T;
  problems.push({ key: name, reason: `must be one of ${allowed.join(', ')}, got "${raw}"` });
  return fallback;
}

/**
 * A setting declared with its parser, so the reader, docs/configuration.md and `ferry help` all come
 * from the one declaration. `parse` gets the trimmed value, or the declared default when unset.
 */
interface DeclaredSetting<T> extends SettingSpec {
  parse(raw: string | undefined, env: string, problems: ConfigProblem[]): T;
}

type Section = Record<string, DeclaredSetting<unknown>>;
type SectionValues<S extends Section> = { [K in keyof S]: S[K] extends DeclaredSetting<infer T> ? T : never };

function readSection<S extends Section>(section: S, env: Env, problems: ConfigProblem[]): SectionValues<S> {
  return Object.fromEntries(Object.entries(section).map(([field, s]) => [field, s.parse(env[s.env]?.trim() || s.default, s.env, problems)])) as SectionValues<S>;
}

const optionalText = (raw: string | undefined): string | undefined => raw;
// The declared default fills an unset value, so these always have one.
const text = (raw: string | undefined): string => raw ?? '';
/** One of `allowed`; a bad value is a problem and reads as the first (the default). */
function choice<T extends string>(allowed: readonly T[]): (raw: string | undefined, env: string, problems: ConfigProblem[]) => T {
  return (raw, env, problems) => {
    if ((allowed as readonly (string | undefined)[]).includes(raw)) return raw as T;
    problems.push({ key: env, reason: `must be one of ${allowed.join(', ')}, got "${raw}"` });
    return allowed[0]!;
  };
}

const awsSection = {
  bucket: { env: 'FERRY_S3_BUCKET', default: undefined, description: 'AWS only: the data bucket (raw/, logs/, parsed/, …); required by the Lambda handlers.', parse: optionalText },
  s3Endpoint: { env: 'FERRY_S3_ENDPOINT', default: undefined, description: 'AWS only: an S3-compatible endpoint instead of AWS (path-style), e.g. an emulator.', parse: optionalText },
} satisfies Section;

const azureSection = {
  connectionString: { env: 'FERRY_AZURE_STORAGE_CONNECTION_STRING', default: undefined, description: 'Azure only: connection string of the data storage account (account key or SAS; Azurite).', parse: optionalText },
  accountUrl: {
    env: 'FERRY_AZURE_STORAGE_ACCOUNT_URL',
    default: undefined,
    description: 'Azure only: blob endpoint of the data storage account, reached with the managed identity; used when no connection string is set.',
    parse: (raw: string | undefined, env: string, problems: ConfigProblem[]): string | undefined => {
      if (raw !== undefined && !/^https:\/\/[^/\s]+\/?$/.test(raw)) problems.push({ key: env, reason: `must be the account's https blob endpoint (https://<account>.blob.core.windows.net/), got "${raw}"` });
      return raw;
    },
  },
  container: { env: 'FERRY_AZURE_CONTAINER', default: 'ferry', description: 'Azure only: the data container (raw/, logs/, parsed/, …).', parse: text },
  parseTrigger: {
    env: 'FERRY_AZURE_PARSE_TRIGGER',
    default: 'eventgrid',
    description: 'Azure only: eventgrid (Event Grid BlobCreated subscription, one blob per invocation), eventhubs (raw/ forwarded by Event Grid to Event Hubs and parsed in batches; logs/ as eventgrid) or polling (the blob trigger scanning logs and the container; not on Flex Consumption).',
    parse: choice(['eventgrid', 'eventhubs', 'polling'] as const),
  },
  eventHubName: { env: 'FERRY_AZURE_EVENTHUB_NAME', default: 'blob-created', description: 'Azure only, with FERRY_AZURE_PARSE_TRIGGER=eventhubs: the event hub Event Grid forwards raw/ BlobCreated events to (connection: FERRY_AZURE_EVENTHUB__fullyQualifiedNamespace).', parse: text },
  loadSchedule: { env: 'FERRY_LOAD_SCHEDULE', default: '0 */5 * * * *', description: 'Azure only: NCRONTAB schedule of the load timer.', parse: text },
  appInsightsConnectionString: {
    env: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
    default: undefined,
    description: "Azure only: the platform's Application Insights connection string (the ARM template sets it); Ferry's ferry_* metrics go there as custom metrics through OpenTelemetry, exported at most once a minute per instance. Unset = no metrics.",
    parse: optionalText,
  },
} satisfies Section;

/** The AWS section: the data bucket, and an S3-compatible endpoint instead of AWS's. */
export type AwsSettings = SectionValues<typeof awsSection>;
/** The Azure section: the data account and container, the parse trigger, the load schedule, Application Insights. */
export type AzureSettings = SectionValues<typeof azureSection>;

/**
 * The Azure section alone, for what is decided before any invocation (the Functions app's trigger
 * registrations). Problems go to `problems` when given (the host's `readConfig` reports them on
 * each invocation), else they throw.
 */
export function readAzureSettings(env: Env, problems?: ConfigProblem[]): AzureSettings {
  const found: ConfigProblem[] = [];
  const azure = readSection(azureSection, env, found);
  if (problems) problems.push(...found);
  else if (found.length > 0) throw new ConfigError(found);
  return azure;
}

const specs = (section: Section): SettingSpec[] => Object.values(section).map(({ env, default: fallback, description }) => ({ env, default: fallback, description }));

/** Every setting Ferry reads, with its default; the same names on every host. */
export const settings: readonly SettingSpec[] = [
  { env: 'PORT', default: '8080', description: 'HTTP port of the local collector.' },
  { env: 'FERRY_HOST', default: '0.0.0.0', description: 'Address the local collector listens on: 0.0.0.0 every IPv4 interface, :: every interface, 127.0.0.1 this machine only.' },
  { env: 'FERRY_DATA_DIR', default: './data', description: 'Local object store and embedded warehouse directory.' },
  { env: 'FERRY_LOAD_INTERVAL_S', default: '10', description: 'Seconds between load runs of the local runner.' },
  { env: 'FERRY_LOAD_OVERLAP_S', default: '21600', description: 'A timed load lists, in each partition of its look-back, the parsed files whose input arrived this many seconds before it or later (and every file at start and hourly); a file parsed later than that is loaded by the next whole listing or ferry load --from/--to.' },
  { env: 'FERRY_LOAD_LOOKBACK_DAYS', default: '7', description: 'Days of parsed date partitions each timed load lists (0 = all); older files need ferry load --from.' },
  { env: 'DATABASE_URL', default: undefined, description: 'Warehouse connection URL: postgres://… (PostgreSQL, Redshift) or sqlserver://…/db (Azure SQL, Synapse, Fabric; ?authentication=default for managed identity); unset = the embedded warehouse, a PostgreSQL server under the data dir.' },
  { env: 'FERRY_EMBEDDED_PORT', default: 'a free port, chosen when the embedded warehouse is made and kept', description: 'Port on 127.0.0.1 of the embedded warehouse (when DATABASE_URL is unset); its password is in <data dir>/pgpass.' },
  { env: 'FERRY_WAREHOUSE', default: 'postgres, or azuresql for a sqlserver:// URL', description: 'postgres, redshift, azuresql, synapse or fabric: the warehouse dialect DATABASE_URL speaks.' },
  { env: 'FERRY_REDSHIFT_IAM_ROLE', default: undefined, description: 'Redshift only: ARN of the IAM role COPY assumes to read parsed files from FERRY_S3_BUCKET (required).' },
  { env: 'FERRY_REDSHIFT_REGION', default: undefined, description: "Redshift only: the bucket's region, when it differs from the cluster's." },
  { env: 'FERRY_WAREHOUSE_SCHEMA', default: 'ferry', description: 'Warehouse schema for the tables and the load manifest.' },
  { env: 'FERRY_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error; logs are JSON lines on stderr.' },
  { env: 'FERRY_SHARED_SECRET', default: undefined, description: 'Hamustro shared secret for request signatures (never logged).' },
  { env: 'FERRY_SIGNATURE', default: 'required if a secret is set, else off', description: 'required, optional or off: whether requests must be signed.' },
  { env: 'FERRY_REPLAY_WINDOW_S', default: '900', description: 'Largest accepted skew of X-Hamustro-Time from server time, seconds; 0 = no check.' },
  { env: 'FERRY_MASK_IP', default: 'false', description: 'true masks client IPs (IPv4 last octet, IPv6 to /48) before storing.' },
  { env: 'FERRY_MAX_BODY_BYTES', default: '1048576', description: 'Largest accepted request body as sent, in bytes (413 above).' },
  { env: 'FERRY_MAX_DECOMPRESSED_BYTES', default: '4194304', description: 'Largest gzip-decoded body, in bytes (413 above).' },
  { env: 'FERRY_MAX_PAYLOADS', default: '1000', description: 'Most payloads per collection (413 above).' },
  { env: 'FERRY_MAX_PARAMETERS', default: '100', description: 'Most parameters per payload (413 above).' },
  { env: 'FERRY_MAX_FIELD_BYTES', default: '8192', description: 'Longest string field, in UTF-8 bytes (413 above).' },
  { env: 'FERRY_BATCH_WINDOW_MS', default: '20', description: 'Group commit: longest a request waits for others to share its write.' },
  { env: 'FERRY_BATCH_MAX_BYTES', default: '4194304', description: 'Group commit: a batch this large is written at once.' },
  { env: 'FERRY_MAX_PENDING_BYTES', default: '67108864', description: 'Memory bound for accepted-but-unstored events; above it requests get 503.' },
  ...specs(awsSection),
  ...specs(azureSection),
  { env: 'FERRY_STORE_URL', default: 'the data dir (file://…/store)', description: 'The store ferry serve writes raw batches to: file:///dir, s3://bucket (FERRY_S3_ENDPOINT for an S3-compatible server) or https://<account>.blob.core.windows.net/<container> (FERRY_AZURE_STORAGE_CONNECTION_STRING, else the managed identity); a cloud store needs ferry serve --only collector, parse and load then run in the cloud functions.' },
  { env: 'FERRY_MIRROR_URL', default: undefined, description: 'A second store the collector mirrors raw batches to (file://, s3://bucket, https://<account>.blob.core.windows.net/<container>); the client is answered on the primary put, refused mirror puts are replayed on each load tick.' },
  { env: 'FERRY_MIRROR_AZURE_CONNECTION_STRING', default: undefined, description: 'Connection string for an Azure mirror (else the managed identity is used).' },
  { env: 'FERRY_RULES', default: undefined, description: 'Comma-separated YAML rules files for logs (e.g. docs/rules/api-nginx.yml); the built-in event rules always apply to raw/events/.' },
  { env: 'FERRY_CLOCK_SKEW_THRESHOLD_S', default: '300', description: 'Client clock skew (seconds) above which events get at_corrected = at + skew.' },
  { env: 'FERRY_MAX_LINE_BYTES', default: '1048576', description: 'Longest input line the parser reads; longer lines are rejected with a reason.' },
  { env: 'FERRY_MODELS', default: undefined, description: 'Folder of SQL models (<name>.sql, checks in <name>.yml) run after each load, e.g. examples/models; unset = no transforms.' },
  { env: 'FERRY_MODELS_SCHEMA', default: 'analytics', description: 'Warehouse schema the models are built in.' },
  { env: 'FERRY_TRANSFORM_MAX_ATTEMPTS', default: '24', description: 'Attempts a failing model gets per UTC day; then it waits for the next day (its descendants too).' },
  { env: 'FERRY_TRANSFORM_RETRY_DELAY_S', default: '60', description: "Seconds before a failed model's next attempt, doubling with each failure (at most an hour)." },
  { env: 'FERRY_TRANSFORM_PARALLELISM', default: '4', description: 'Models built at the same time, at most (independent branches of the DAG).' },
  { env: 'FERRY_RUNS_RETENTION_DAYS', default: '90', description: 'Days the run records (ferry.runs: loads, parse sweeps, models, checks) are kept.' },
  { env: 'FERRY_OPS_TOKEN', default: undefined, description: 'Bearer token for the run view (/, /runs/<date>, /api/runs) and /metrics; unset = ferry serve answers them to this machine only and the cloud routes are off (never logged).' },
  { env: 'FERRY_FRESHNESS_S', default: '7200', description: 'Seconds since its last load after which the run view shows a table stale.' },
  { env: 'FERRY_CORS_ORIGINS', default: undefined, description: 'Comma-separated web origins (https://app.example.com) or * allowed to send events from a browser; preflight OPTIONS answered 204. Unset = CORS off.' },
];

/** Variables named FERRY_* that the test harness reads, not Ferry: never reported as unknown. */
const harnessVariables = new Set(['FERRY_TEST_DATABASE_URL', 'FERRY_UPDATE_GOLDEN', 'FERRY_REQUIRE_BROWSER']);

/** Levenshtein distance, for naming the setting a mistyped variable was meant to be. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * `FERRY_*` variables that are not settings (a typo such as `FERRY_LOAD_INTERVAL` is otherwise
 * silently ignored), each with the closest setting's name. Hosts warn about them at start.
 */
export function unknownSettings(env: Env): ConfigProblem[] {
  const known = settings.map((s) => s.env);
  return Object.keys(env)
    .filter((name) => name.startsWith('FERRY_') && !known.includes(name) && !harnessVariables.has(name))
    .sort()
    .map((name) => {
      const closest = known.reduce((best, candidate) => (editDistance(name, candidate) < editDistance(name, best) ? candidate : best));
      return { key: name, reason: `is not a Ferry setting and is ignored; did you mean ${closest}?` };
    });
}

function flag(env: Env, name: string, problems: ConfigProblem[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return false;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  problems.push({ key: name, reason: `must be true or false, got "${env[name]}"` });
  return false;
}

/**
 * Reads and validates the configuration. Fails fast with a `ConfigError` naming every bad key at
 * once, so one start-up attempt shows everything to fix.
 */
export function readConfig(env: Env = process.env): FerryConfig {
  const problems: ConfigProblem[] = [];
  const aws = readSection(awsSection, env, problems);
  const azure = readSection(azureSection, env, problems);
  const config: FerryConfig = {
    port: integer(env, 'PORT', 8080, 0, 65535, problems),
    host: readHost(env, problems),
    dataDir: env.FERRY_DATA_DIR?.trim() || './data',
    loadIntervalS: integer(env, 'FERRY_LOAD_INTERVAL_S', 10, 1, 86400, problems),
    loadLookbackDays: integer(env, 'FERRY_LOAD_LOOKBACK_DAYS', 7, 0, 3660, problems),
    loadOverlapS: integer(env, 'FERRY_LOAD_OVERLAP_S', 21600, 60, 30 * 86400, problems),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    embeddedPort: env.FERRY_EMBEDDED_PORT?.trim() ? integer(env, 'FERRY_EMBEDDED_PORT', 0, 1, 65535, problems) : undefined,
    warehouseSchema: env.FERRY_WAREHOUSE_SCHEMA?.trim() || 'ferry',
    warehouse: readWarehouseSettings(env, aws, azure, problems),
    logLevel: oneOf(env, 'FERRY_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info', problems),
    collector: readCollectorSettings(env, problems),
    parser: {
      rulesFiles: (env.FERRY_RULES ?? '').split(',').map((f) => f.trim()).filter((f) => f !== ''),
      clockSkewThresholdS: integer(env, 'FERRY_CLOCK_SKEW_THRESHOLD_S', 300, 0, 366 * 86400, problems),
      maxLineBytes: integer(env, 'FERRY_MAX_LINE_BYTES', 1024 * 1024, 1024, 256 * 1024 * 1024, problems),
    },
    storeUrl: readStoreUrl(env, problems),
    mirror: readMirrorSettings(env, problems),
    transform: {
      modelsDir: env.FERRY_MODELS?.trim() || undefined,
      modelsSchema: env.FERRY_MODELS_SCHEMA?.trim() || 'analytics',
      maxAttemptsPerDay: integer(env, 'FERRY_TRANSFORM_MAX_ATTEMPTS', 24, 1, 1000, problems),
      retryDelayS: integer(env, 'FERRY_TRANSFORM_RETRY_DELAY_S', 60, 0, 86400, problems),
      parallelism: integer(env, 'FERRY_TRANSFORM_PARALLELISM', 4, 1, 64, problems),
    },
    runsRetentionDays: integer(env, 'FERRY_RUNS_RETENTION_DAYS', 90, 1, 3660, problems),
    ops: { token: env.FERRY_OPS_TOKEN?.trim() || undefined, freshnessS: integer(env, 'FERRY_FRESHNESS_S', 7200, 1, 366 * 86400, problems) },
    cors: readCorsOrigins(env.FERRY_CORS_ORIGINS, problems),
    aws,
    azure,
  };
  // The collector refuses a collection whose raw line the parser would reject as too long.
  config.collector.limits.maxLineBytes = config.parser.maxLineBytes;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.transform.modelsSchema)) {
    problems.push({ key: 'FERRY_MODELS_SCHEMA', reason: `must be a lower-case SQL identifier, got "${config.transform.modelsSchema}"` });
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(config.warehouseSchema)) {
    problems.push({ key: 'FERRY_WAREHOUSE_SCHEMA', reason: `must be a lower-case SQL identifier, got "${config.warehouseSchema}"` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** An IP address or a host name (`localhost`), as `listen` takes it. */
function readHost(env: Env, problems: ConfigProblem[]): string {
  const host = env.FERRY_HOST?.trim() || '0.0.0.0';
  if (isIP(host) === 0 && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)) {
    problems.push({ key: 'FERRY_HOST', reason: `must be an IP address or a host name, got "${host}"` });
  }
  return host;
}

const postgresSchemes = ['postgres:', 'postgresql:'];
const sqlServerSchemes = ['sqlserver:', 'mssql:'];

/** The warehouse kind (explicit, or from the URL's scheme) and the settings its dialect requires. */
function readWarehouseSettings(env: Env, aws: AwsSettings, azure: AzureSettings, problems: ConfigProblem[]): WarehouseSettings {
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  let scheme: string | undefined;
  if (databaseUrl !== undefined) {
    try {
      scheme = new URL(databaseUrl).protocol;
    } catch {
      problems.push({ key: 'DATABASE_URL', reason: 'is not a valid URL' });
    }
  }
  const inferred: WarehouseKind = scheme !== undefined && sqlServerSchemes.includes(scheme) ? 'azuresql' : 'postgres';
  const kind = oneOf(env, 'FERRY_WAREHOUSE', warehouseKinds, inferred, problems);
  const schemes = kind === 'azuresql' || kind === 'synapse' || kind === 'fabric' ? sqlServerSchemes : postgresSchemes;
  if (scheme !== undefined && !schemes.includes(scheme)) {
    problems.push({ key: 'DATABASE_URL', reason: `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL for FERRY_WAREHOUSE=${kind}, got "${scheme}"` });
  }
  if (databaseUrl === undefined && kind !== 'postgres') problems.push({ key: 'DATABASE_URL', reason: `is required for FERRY_WAREHOUSE=${kind} (only PostgreSQL has an embedded default)` });
  const settings: WarehouseSettings = { kind };
  if (kind === 'redshift') {
    const role = env.FERRY_REDSHIFT_IAM_ROLE?.trim();
    if (!role) problems.push({ key: 'FERRY_REDSHIFT_IAM_ROLE', reason: 'is required for FERRY_WAREHOUSE=redshift (the role COPY assumes to read S3)' });
    else settings.redshiftIamRole = role;
    if (!aws.bucket) problems.push({ key: 'FERRY_S3_BUCKET', reason: 'is required for FERRY_WAREHOUSE=redshift: Redshift loads the parsed files from S3' });
    const region = env.FERRY_REDSHIFT_REGION?.trim();
    if (region) settings.redshiftRegion = region;
  }
  if ((kind === 'synapse' || kind === 'fabric') && !azure.connectionString && !azure.accountUrl) {
    problems.push({ key: 'FERRY_AZURE_STORAGE_ACCOUNT_URL', reason: `or FERRY_AZURE_STORAGE_CONNECTION_STRING is required for FERRY_WAREHOUSE=${kind}: it loads the parsed files from Blob Storage` });
  }
  return settings;
}

function readCollectorSettings(env: Env, problems: ConfigProblem[]): CollectorSettings {
  const mib = 1024 * 1024;
  const secret = env.FERRY_SHARED_SECRET === '' ? undefined : env.FERRY_SHARED_SECRET;
  const mode: SignatureMode = oneOf(env, 'FERRY_SIGNATURE', ['required', 'optional', 'off'] as const, secret === undefined ? 'off' : 'required', problems);
  if (mode !== 'off' && secret === undefined) problems.push({ key: 'FERRY_SHARED_SECRET', reason: `is required when FERRY_SIGNATURE=${mode}` });
  const settings: CollectorSettings = {
    signature: { mode, secret, replayWindowS: integer(env, 'FERRY_REPLAY_WINDOW_S', 900, 0, 7 * 86400, problems) },
    maskIp: flag(env, 'FERRY_MASK_IP', problems),
    limits: {
      maxBodyBytes: integer(env, 'FERRY_MAX_BODY_BYTES', mib, 1024, 64 * mib, problems),
      maxDecompressedBytes: integer(env, 'FERRY_MAX_DECOMPRESSED_BYTES', 4 * mib, 1024, 256 * mib, problems),
      maxPayloads: integer(env, 'FERRY_MAX_PAYLOADS', 1000, 1, 1_000_000, problems),
      maxParameters: integer(env, 'FERRY_MAX_PARAMETERS', 100, 0, 100_000, problems),
      maxFieldBytes: integer(env, 'FERRY_MAX_FIELD_BYTES', 8192, 16, 16 * mib, problems),
    },
    batch: {
      windowMs: integer(env, 'FERRY_BATCH_WINDOW_MS', 20, 0, 60_000, problems),
      maxBatchBytes: integer(env, 'FERRY_BATCH_MAX_BYTES', 4 * mib, 1024, 256 * mib, problems),
      maxPendingBytes: integer(env, 'FERRY_MAX_PENDING_BYTES', 64 * mib, 64 * 1024, 4096 * mib, problems),
    },
  };
  return settings;
}

function readMirrorSettings(env: Env, problems: ConfigProblem[]): MirrorSettings | undefined {
  const url = env.FERRY_MIRROR_URL?.trim();
  if (!url) return undefined;
  if (!/^(file:\/\/\/|s3:\/\/[^/?]+|https?:\/\/[^/]+\/.+)/.test(url)) {
    problems.push({ key: 'FERRY_MIRROR_URL', reason: `must be file:///dir, s3://bucket or an http(s) blob container URL, got "${url}"` });
  }
  return { url, azureConnectionString: env.FERRY_MIRROR_AZURE_CONNECTION_STRING?.trim() || undefined };
}
