/** Largest epoch second that is still a four-digit year (9999-12-31 23:59:59 UTC). */
export const maxEpochSeconds = 253402300799n;

/** Whether epoch seconds (a uint64 decimal string) are a time the warehouse can store (at most year 9999). */
export function isStorableEpochSeconds(seconds: string): boolean {
  // Below 16 digits a Number is exact; only longer values need BigInt to be compared safely.
  return seconds.length < 16 ? Number(seconds) <= Number(maxEpochSeconds) : BigInt(seconds) <= maxEpochSeconds;
}

/**
 * Formats a date as the warehouse-neutral UTC text `YYYY-MM-DD HH:MM:SS[.ffffff]` that
 * PostgreSQL, Redshift and SQL Server all load without a format hint.
 */
export function formatUtcTimestamp(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = iso.slice(20, 23);
  return ms === '000' ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${ms}000`;
}

const secondsPerDay = 86_400;
let cachedDay = Number.NaN;
let cachedDayText = '';

function twoDigits(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Formats epoch seconds (a uint64 decimal string) as a UTC timestamp, or returns null if out of
 * range. The date part is remembered: a collector batch's events mostly share their day, and
 * this runs once or twice per event.
 */
export function formatEpochSeconds(seconds: string): string | null {
  if (!isStorableEpochSeconds(seconds)) return null;
  const value = Number(seconds);
  const day = Math.floor(value / secondsPerDay);
  if (day !== cachedDay) {
    cachedDayText = new Date(day * secondsPerDay * 1000).toISOString().slice(0, 10);
    cachedDay = day;
  }
  const rest = value - day * secondsPerDay;
  return `${cachedDayText} ${twoDigits(Math.floor(rest / 3600))}:${twoDigits(Math.floor((rest % 3600) / 60))}:${twoDigits(rest % 60)}`;
}
