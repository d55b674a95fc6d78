/**
 * Whether `text` takes more than `max` bytes as UTF-8. A UTF-16 unit takes at most 3 bytes, so
 * the exact count (a scan of the whole text) is only needed when the text is near the limit.
 */
export function utf8LongerThan(text: string, max: number): boolean {
  return text.length * 3 > max && Buffer.byteLength(text) > max;
}
