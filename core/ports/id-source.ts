/** Source of unique, time-sortable identifiers, injected so tests are deterministic. */
export interface IdSource {
  /** A new id whose lexical order follows `at`'s order (ties broken randomly). */
  next(at: Date): string;
}
