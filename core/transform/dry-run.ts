import type { TransformDialect } from './dialects/transform-dialect.js';
import type { Project } from './project.js';

/**
 * The SQL a full build of the selected models runs, in dependency order, without touching the
 * warehouse (night-shift's `-nf`): each model's statements under a comment naming its file. An
 * incremental model's later runs replace only the dates their new rows touch; a plan shows its
 * first, full build.
 */
export function dryRunSql(project: Project, dialect: TransformDialect, runDate: string, select: readonly string[] = []): string {
  const selected = project.select(select);
  const out: string[] = [];
  for (const model of project.models.filter((m) => selected.has(m.name))) {
    const names = { schema: dialect.modelsSchema, name: model.name };
    const sql = model.template.render({ runDate, incremental: false });
    const phases = model.config.materialized === 'view' ? dialect.replaceWithView(names, sql, undefined, []) : dialect.replaceWithTable(names, sql, undefined, []);
    const refs = model.refs.length > 0 ? `; after ${model.refs.join(', ')}` : '';
    const partition = model.config.partitionBy ? `, partition_by ${model.config.partitionBy}` : '';
    out.push(`-- ${model.name}: ${model.config.materialized}${partition} (${model.path}${refs})`);
    for (const phase of phases) {
      if (phase.transactional) out.push(dialect.sql.family === 'tsql' ? 'BEGIN TRANSACTION;' : 'BEGIN;');
      for (const step of phase.steps) out.push(`${step.sql};`);
      if (phase.transactional) out.push(dialect.sql.family === 'tsql' ? 'COMMIT TRANSACTION;' : 'COMMIT;');
    }
    out.push('');
  }
  return out.join('\n');
}
