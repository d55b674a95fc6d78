import { FerryError, type ErrorContext } from '../errors.js';

/**
 * A model folder Ferry cannot run: a template that does not compile, a `ref()` to no model, a
 * cycle, a bad `config()` or checks file. The message starts with the file it is about.
 */
export class ModelError extends FerryError {
  constructor(file: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('invalid_model', `${file}: ${message}`, { file, ...context }, options);
  }
}
