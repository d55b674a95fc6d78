/** Where the client keeps its device id and each session's last `nr`: `localStorage` in a browser. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** A storage that lives as long as the process (Node, or a browser without `localStorage`). */
export function memoryStorage(): KeyValueStorage {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, value),
  };
}

/** `localStorage` when the platform has a usable one (not in Node, not when blocked), else memory. */
export function defaultStorage(): KeyValueStorage {
  try {
    const storage = (globalThis as { localStorage?: KeyValueStorage }).localStorage;
    if (storage) {
      storage.setItem('ferry:probe', '1');
      return storage;
    }
  } catch {
    // Blocked by privacy settings or a sandboxed frame.
  }
  return memoryStorage();
}
