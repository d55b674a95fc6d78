/** Largest epoch second that is still a four-digit year (9999-12-31 23:59:59 UTC). */
export const maxEpochSeconds = 253402300799n;

/**
 * Formats a date as the warehouse-neutral UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]` that
 * PostgreSQL, Redshift and SQL Server all load without a format hint.
 */
export function formatUtcTimestamp(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = iso.slice(20, 23);
  return ms === '000' ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${ms}000`;
}

/** Formats epoch seconds (a uint64 decimal string) as a UTC timestamp, or returns null if out of range. */
export function formatEpochSeconds(seconds: string): string | null {
  const value = BigInt(seconds);
  if (value > maxEpochSeconds) return null;
  return formatUtcTimestamp(new Date(Number(value) * 1000));
}
