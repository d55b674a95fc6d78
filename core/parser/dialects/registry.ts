import type { Dialect } from '../dialect.js';
import { ferryCollectorDialect } from './ferry-collector.js';
import { jsonLinesDialect } from './json-lines.js';
import { nginxDialect, timedLogFormat } from './nginx.js';

/** Settings dialects may need from the configuration. */
export interface DialectOptions {
  clockSkewThresholdS: number;
}

/** A dialect as written in a rules file: its name, its type and the type's own settings. */
export interface DialectSpec {
  name: string;
  type: string;
  log_format?: string;
  require?: string[];
}

/** Dialect types and the settings each accepts. */
export const dialectTypes: Record<string, { settings: readonly string[]; create(spec: DialectSpec, options: DialectOptions): Dialect }> = {
  ferry_collector: { settings: [], create: (spec, options) => ferryCollectorDialect(spec.name, options.clockSkewThresholdS) },
  nginx: { settings: ['log_format'], create: (spec) => nginxDialect(spec.name, spec.log_format) },
  json: { settings: ['require'], create: (spec) => jsonLinesDialect(spec.name, spec.require) },
};

/** Ready-made dialects a rules file can name with a bare string. */
export const dialectPresets: Record<string, DialectSpec> = {
  ferry_collector: { name: 'ferry_collector', type: 'ferry_collector' },
  nginx_combined: { name: 'nginx_combined', type: 'nginx' },
  nginx_timed: { name: 'nginx_timed', type: 'nginx', log_format: timedLogFormat },
  json_lines: { name: 'json_lines', type: 'json' },
};
