import type { CopyTarget } from '../ports/warehouse.js';
import type { BatchInput } from './load-dialect.js';

/**
 * Streams each file of the batch from the store through the client into `target`, one bulk
 * load per file so each file's count can be checked; returns the rows copied per file.
 */
export async function copyFilesFromClient(batch: BatchInput, target: CopyTarget): Promise<number[]> {
  const copied: number[] = [];
  for (const file of batch.files) {
    const csv = await batch.open(file.key);
    try {
      copied.push(await batch.tx.copyCsv(target, csv));
    } finally {
      csv.destroy(); // a failed load must not leave the object's stream (and file handle) open
    }
  }
  return copied;
}
