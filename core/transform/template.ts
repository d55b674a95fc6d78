import nunjucks from 'nunjucks';
import { checkIdentifier } from '../loader/sql-text.js';
import type { ModelFile } from './model-files.js';
import { ModelError } from './transform-error.js';

/** How a model is kept in the warehouse. */
export type Materialization = 'table' | 'view' | 'incremental';

/** What a model's `{{ config(...) }}` says. */
export interface ModelConfig {
  materialized: Materialization;
  /** Incremental models: the output column holding the date partition that runs replace. */
  partitionBy?: string;
  /** The columns that identify a row (checked as `unique` after every build). */
  uniqueKey?: string[];
}

/** Where a model's names point and which SQL its branches are for. */
export interface RenderTarget {
  /** `postgres`, `redshift` or `tsql`: what `{% if dialect == 'tsql' %}` compares. */
  family: string;
  /** The exact warehouse (`postgres`, `redshift`, `azuresql`, `synapse`, `fabric`). */
  kind: string;
  quote(name: string): string;
  /** Where models are built (`FERRY_MODELS_SCHEMA`). */
  modelsSchema: string;
  /** Where Ferry's tables are (`FERRY_WAREHOUSE_SCHEMA`): `source('ferry', …)`. */
  sourceSchema: string;
}

/** One rendering's variables. */
export interface RenderOptions {
  /** `YYYY-MM-DD`, the template's `run_date`. */
  runDate: string;
  /** What `is_incremental()` answers. */
  incremental: boolean;
  /** A relation to read instead of a source table (the changed rows, for an incremental run). */
  sourceRelation?: (table: string) => string | undefined;
}

/** What a model's template declares: its refs, the sources it reads and its config. */
export interface ModelAnalysis {
  refs: string[];
  sources: string[];
  config: ModelConfig;
}

const environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
const sourceName = 'ferry';
const configKeys = new Set(['materialized', 'partition_by', 'unique_key']);

/** nunjucks' message without its `(path) [Line, Column]` preamble on separate lines. */
function templateMessage(err: unknown): string {
  return String((err as Error).message ?? err)
    .replace(/^\([^)]*\)\s*/, '')
    .replace(/\s*\n\s*(Error: )?/g, ' ')
    .trim();
}

/** A model's template, compiled once; rendered per run with that run's variables. */
export class ModelTemplate {
  private readonly compiled: nunjucks.Template;

  constructor(
    readonly file: ModelFile,
    private readonly target: RenderTarget,
  ) {
    try {
      this.compiled = new nunjucks.Template(file.template, environment, file.path, true);
    } catch (err) {
      throw new ModelError(file.path, `template does not compile: ${templateMessage(err)}`, { cause: err });
    }
  }

  private relation(schema: string, name: string): string {
    return `${this.target.quote(schema)}.${this.target.quote(name)}`;
  }

  /** Renders with `ref`, `source` and `config` reporting what they were called with. */
  private renderWith(options: RenderOptions, seen: { refs: Set<string>; sources: Set<string>; config: Record<string, unknown> }): string {
    const file = this.file.path;
    // nunjucks wraps what a template function throws and drops the original: keep it here.
    let raised: ModelError | undefined;
    const fail = (message: string): never => {
      throw (raised = new ModelError(file, message));
    };
    const name = (what: string, value: unknown): string => {
      if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) return fail(`${what}: ${JSON.stringify(value)} is not a lower-case SQL name in quotes`);
      return checkIdentifier(value);
    };
    const context = {
      ref: (model: unknown) => {
        const ref = name('ref()', model);
        seen.refs.add(ref);
        return this.relation(this.target.modelsSchema, ref);
      },
      source: (source: unknown, table: unknown) => {
        if (source !== sourceName) fail(`source(${JSON.stringify(source)}, …): the only source is 'ferry', Ferry's own tables (FERRY_WAREHOUSE_SCHEMA)`);
        const t = name('source()', table);
        seen.sources.add(t);
        return options.sourceRelation?.(t) ?? this.relation(this.target.sourceSchema, t);
      },
      config: (...args: unknown[]) => {
        const kwargs = args.at(-1) as Record<string, unknown> | undefined;
        if (args.length !== 1 || !kwargs || typeof kwargs !== 'object' || !('__keywords' in kwargs)) {
          return fail("config() takes keyword arguments, e.g. config(materialized='table')");
        }
        for (const [key, value] of Object.entries(kwargs)) {
          if (key === '__keywords') continue;
          if (!configKeys.has(key)) fail(`config(${key}=…): unknown setting (materialized, partition_by, unique_key)`);
          seen.config[key] = value;
        }
        return '';
      },
      is_incremental: () => options.incremental,
      this: this.relation(this.target.modelsSchema, this.file.name),
      run_date: options.runDate,
      dialect: this.target.family,
      warehouse: this.target.kind,
    };
    let sql: string;
    try {
      sql = this.compiled.render(context);
    } catch (err) {
      if (raised) throw raised;
      throw new ModelError(file, `template does not render: ${templateMessage(err)}`, { cause: err });
    }
    // Blank-line runs collapsed (config() calls leave them), no trailing `;`: the SQL gets wrapped.
    return sql.replace(/\n\s*\n(\s*\n)+/g, '\n\n').trim().replace(/;\s*$/, '').trim();
  }

  /** The refs, sources and config, from renderings with `is_incremental()` false and true. */
  analyze(runDate: string): ModelAnalysis {
    const seen = { refs: new Set<string>(), sources: new Set<string>(), config: {} as Record<string, unknown> };
    const full = this.renderWith({ runDate, incremental: false }, seen);
    this.renderWith({ runDate, incremental: true }, seen);
    if (!/^\s*(\(\s*)*(select|with)\b/i.test(full.replace(/^(--[^\n]*\n|\/\*[\s\S]*?\*\/|\s)+/, ''))) {
      throw new ModelError(this.file.path, 'a model is one SELECT (or WITH … SELECT) statement');
    }
    return { refs: [...seen.refs].sort(), sources: [...seen.sources].sort(), config: this.validConfig(seen.config) };
  }

  private validConfig(raw: Record<string, unknown>): ModelConfig {
    const file = this.file.path;
    const materialized = raw.materialized ?? 'table';
    if (materialized !== 'table' && materialized !== 'view' && materialized !== 'incremental') {
      throw new ModelError(file, `config(materialized=${JSON.stringify(materialized)}): must be 'table', 'view' or 'incremental'`);
    }
    const config: ModelConfig = { materialized };
    const columnName = (what: string, value: unknown) => {
      if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new ModelError(file, `config(${what}=${JSON.stringify(value)}): must be a lower-case column name`);
      return value;
    };
    if (raw.partition_by !== undefined) config.partitionBy = columnName('partition_by', raw.partition_by);
    if (raw.unique_key !== undefined) {
      const keys = Array.isArray(raw.unique_key) ? raw.unique_key : [raw.unique_key];
      config.uniqueKey = keys.map((k) => columnName('unique_key', k));
    }
    if (materialized === 'incremental' && config.partitionBy === undefined) {
      throw new ModelError(file, "config(materialized='incremental') needs partition_by='<date column>': the runs replace the dates their new input rows touch");
    }
    return config;
  }

  /** The model's SELECT for one run. */
  render(options: RenderOptions): string {
    return this.renderWith(options, { refs: new Set(), sources: new Set(), config: {} });
  }
}
