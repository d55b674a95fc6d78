import { createHash } from 'node:crypto';
import type { Row, Warehouse } from '../ports/warehouse.js';
import { timestampOf, type RecordedRun } from '../runs/run-records.js';
import type { Existing, TransformDialect } from './dialects/transform-dialect.js';
import type { Model, Project } from './project.js';

/** A model's bookkeeping row from its last successful build. */
export interface ModelState {
  version: string;
  templateHash: string;
  refsVersion: string;
  builtAt: Date;
}

/** What the warehouse holds at the start of a run. */
export interface WarehouseSnapshot {
  /** Relations in the models schema. */
  relations: Map<string, Existing>;
  /** Whether the loader's manifest exists (something was ever loaded). */
  hasManifest: boolean;
  /** Per loaded table: `<files>:<latest load>`. */
  sources: Map<string, string>;
  states: Map<string, ModelState>;
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/** Reads relations, source versions and model states. */
export async function readSnapshot(warehouse: Warehouse, dialect: TransformDialect): Promise<WarehouseSnapshot> {
  const catalog = await warehouse.query<Row>(dialect.catalog());
  const relations = new Map<string, Existing>();
  let hasManifest = false;
  for (const r of catalog) {
    const schema = String(r.table_schema);
    const name = String(r.table_name);
    const kind = String(r.table_type).toUpperCase() === 'VIEW' ? 'view' : 'table';
    if (schema === dialect.modelsSchema) relations.set(name, kind);
    if (schema === dialect.ferrySchema && name === 'load_manifest') hasManifest = true;
  }
  const sources = new Map<string, string>();
  if (hasManifest) {
    for (const r of await warehouse.query<Row>(dialect.sourceVersions())) {
      sources.set(String(r.table_name), `${String(r.files)}:${timestampOf(r.last_loaded_at).toISOString()}`);
    }
  }
  const states = new Map<string, ModelState>();
  for (const r of await warehouse.query<Row>(dialect.readState())) {
    states.set(String(r.model), { version: String(r.version), templateHash: String(r.template_hash), refsVersion: String(r.refs_version), builtAt: timestampOf(r.built_at) });
  }
  return { relations, hasManifest, sources, states };
}

/** What a model's output depends on, as hashes. */
export interface ModelVersion {
  /** Its SQL as rendered for this run (run date and dialect included), config and checks. */
  templateHash: string;
  /** The versions of the models it refs. */
  refsVersion: string;
  /** All of it plus its sources' versions: a model whose version is unchanged needs no run. */
  version: string;
}

/** Every model's version, in dependency order: a changed input changes every model downstream. */
export function modelVersions(project: Project, sources: Map<string, string>, render: (m: Model) => string): Map<string, ModelVersion> {
  const versions = new Map<string, ModelVersion>();
  for (const m of project.models) {
    const templateHash = hash(render(m), JSON.stringify(m.config), JSON.stringify(m.checks));
    const refsVersion = hash(...m.refs.map((r) => `${r}=${versions.get(r)!.version}`));
    const version = hash(templateHash, refsVersion, ...m.sources.map((s) => `${s}=${sources.get(s) ?? '-'}`));
    versions.set(m.name, { templateHash, refsVersion, version });
  }
  return versions;
}

/** Where a model stands in today's attempts. */
export interface AttemptState {
  /** Failed attempts today since its last success. */
  failures: number;
  lastFailedAt?: Date;
}

/** Failures per model today since each one's last success, from the day's run records. */
export function attemptStates(records: readonly RecordedRun[]): Map<string, AttemptState> {
  const out = new Map<string, AttemptState>();
  for (const r of records) {
    if (r.status === 'success') out.set(r.target, { failures: 0 });
    else if (r.status === 'failed') out.set(r.target, { failures: (out.get(r.target)?.failures ?? 0) + 1, lastFailedAt: r.finishedAt });
  }
  return out;
}

/** Longest wait between attempts of a failing model. */
export const maxRetryDelayMs = 3_600_000;

/** When a model that failed `failures` times may be tried again: the delay doubles each time, capped. */
export function nextAttemptAt(state: AttemptState, retryDelayMs: number): Date | undefined {
  if (state.failures === 0 || !state.lastFailedAt) return undefined;
  const wait = Math.min(retryDelayMs * 2 ** (state.failures - 1), maxRetryDelayMs);
  return new Date(state.lastFailedAt.getTime() + wait);
}
