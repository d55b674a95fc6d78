import { ConfigError } from '../errors.js';

/**
 * A model folder Ferry cannot run: a template that does not compile, a `ref()` to no model, a
 * cycle, a bad `config()` or checks file. Like a bad rules file it is a configuration error
 * (start-up stops, exit 2), its one problem keyed by the file it is about.
 */
export class ModelError extends ConfigError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super([{ key: file, reason }]);
    this.file = file;
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}
