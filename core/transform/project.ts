import { FerryError } from '../errors.js';
import { readModelFiles, type CheckSpec, type ModelFile } from './model-files.js';
import { ModelTemplate, type ModelConfig, type RenderTarget } from './template.js';
import { ModelError } from './transform-error.js';

/** One model with what its template declares. */
export interface Model {
  name: string;
  path: string;
  template: ModelTemplate;
  /** Models it reads through `ref()`. */
  refs: string[];
  /** Ferry tables it reads through `source('ferry', …)`. */
  sources: string[];
  config: ModelConfig;
  checks: CheckSpec[];
}

/**
 * The models of one folder as a DAG built from their `ref()`s, in dependency order. Building it
 * fails, naming the file, on a template that does not compile, a ref to no model and a cycle.
 */
export class Project {
  /** Every model, each after the models it refs (ties by name). */
  readonly models: readonly Model[];
  private readonly byName: Map<string, Model>;
  private readonly childrenOf = new Map<string, string[]>();

  constructor(models: readonly Model[]) {
    this.byName = new Map(models.map((m) => [m.name, m]));
    for (const m of models) {
      for (const ref of m.refs) {
        if (!this.byName.has(ref)) {
          throw new ModelError(m.path, `ref('${ref}') names no model (models: ${[...this.byName.keys()].join(', ') || 'none'})`);
        }
        this.childrenOf.set(ref, [...(this.childrenOf.get(ref) ?? []), m.name]);
      }
    }
    this.models = this.dependencyOrder(models);
  }

  private dependencyOrder(models: readonly Model[]): Model[] {
    const order: Model[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (m: Model, path: string[]) => {
      if (state.get(m.name) === 'done') return;
      if (state.get(m.name) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(m.name)), m.name];
        // The file whose ref closes the cycle.
        throw new ModelError(this.byName.get(path.at(-1)!)!.path, `ref() cycle: ${cycle.join(' → ')}`);
      }
      state.set(m.name, 'visiting');
      for (const ref of m.refs) visit(this.byName.get(ref)!, [...path, m.name]);
      state.set(m.name, 'done');
      order.push(m);
    };
    for (const m of [...models].sort((a, b) => a.name.localeCompare(b.name))) visit(m, []);
    return order;
  }

  get(name: string): Model {
    const model = this.byName.get(name);
    if (!model) throw new FerryError('usage', `no model named ${name} (models: ${[...this.byName.keys()].join(', ')})`);
    return model;
  }

  children(name: string): string[] {
    return this.childrenOf.get(name) ?? [];
  }

  /** The models that read `name`, directly or through others. */
  descendants(name: string): Set<string> {
    const out = new Set<string>();
    const walk = (n: string) => {
      for (const c of this.children(n)) if (!out.has(c)) walk((out.add(c), c));
    };
    walk(name);
    return out;
  }

  /** The models `name` reads, directly or through others. */
  ancestors(name: string): Set<string> {
    const out = new Set<string>();
    const walk = (n: string) => {
      for (const r of this.get(n).refs) if (!out.has(r)) walk((out.add(r), r));
    };
    walk(name);
    return out;
  }

  /**
   * The views that replacing `name` drops on a warehouse whose views bind to their tables
   * (PostgreSQL): those reading it, and views reading those views, in dependency order.
   */
  dependentViews(name: string): Model[] {
    const out = new Set<string>();
    const walk = (n: string) => {
      for (const c of this.children(n)) if (!out.has(c) && this.get(c).config.materialized === 'view') walk((out.add(c), c));
    };
    walk(name);
    return this.models.filter((m) => out.has(m.name));
  }

  /**
   * The models `selectors` name, dbt-style: `name`, `name+` (with its descendants), `+name` (with
   * its ancestors). None: every model.
   */
  select(selectors: readonly string[]): Set<string> {
    if (selectors.length === 0) return new Set(this.models.map((m) => m.name));
    const out = new Set<string>();
    for (const raw of selectors.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
      const name = raw.replace(/^\+/, '').replace(/\+$/, '');
      this.get(name);
      out.add(name);
      if (raw.endsWith('+')) for (const d of this.descendants(name)) out.add(d);
      if (raw.startsWith('+')) for (const a of this.ancestors(name)) out.add(a);
    }
    return out;
  }
}

/** Compiles and analyses model files for one warehouse, then builds their DAG. */
export function buildProject(files: readonly ModelFile[], target: RenderTarget, runDate: string): Project {
  return new Project(
    files.map((file) => {
      const template = new ModelTemplate(file, target);
      const { refs, sources, config } = template.analyze(runDate);
      const checks = [...file.checks];
      if (config.uniqueKey && !checks.some((c) => c.kind === 'unique' && c.columns.join() === config.uniqueKey!.join())) {
        checks.push({ kind: 'unique', columns: config.uniqueKey });
      }
      return { name: file.name, path: file.path, template, refs, sources, config, checks };
    }),
  );
}

/** Reads the models folder (`FERRY_MODELS`) and builds its DAG; fails at start naming the file. */
export async function loadProject(dir: string, target: RenderTarget, runDate: string): Promise<Project> {
  return buildProject(await readModelFiles(dir), target, runDate);
}
