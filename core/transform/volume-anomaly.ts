/** Days of history the rule compares with, and how many of them it needs. */
export const anomalyHistoryDays = 7;
export const anomalyMinHistoryDays = 5;
/** A day's volume passes within [low × median, high × median] of the history. */
export const anomalyBounds = { low: 0.9, high: 1.15 } as const;

/** What the volume rule decided about one day. */
export interface VolumeVerdict {
  status: 'pass' | 'fail' | 'not_enough_history';
  volume: number;
  median?: number;
  low?: number;
  high?: number;
  /** Days of history that had a volume. */
  historyDays: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * night-shift's data-volume rule: a day's volume outside 0.9×–1.15× of the median of the previous
 * 7 days fails; with fewer than 5 of those days present it passes (not enough history to judge).
 * `history` holds the previous days' volumes (missing days left out).
 */
export function volumeVerdict(volume: number, history: readonly number[]): VolumeVerdict {
  const days = history.slice(-anomalyHistoryDays);
  if (days.length < anomalyMinHistoryDays) return { status: 'not_enough_history', volume, historyDays: days.length };
  const m = median(days);
  const low = m * anomalyBounds.low;
  const high = m * anomalyBounds.high;
  return { status: volume >= low && volume <= high ? 'pass' : 'fail', volume, median: m, low, high, historyDays: days.length };
}

/** The `count` dates before `date` (`YYYY-MM-DD`), oldest first. */
export function daysBefore(date: string, count: number): string[] {
  const at = Date.parse(`${date}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(at - (count - i) * 86_400_000).toISOString().slice(0, 10));
}
