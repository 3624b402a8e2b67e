/**
 * RFC 3339 date-times as zot reads a new API key's `expirationDate`: Go's
 * `time.Parse(time.RFC3339, …)`, quirks included, so a date zot accepts is
 * accepted here and one zot refuses is refused.
 */

// Go's time.RFC3339 layout as time.Parse reads it: a fraction after the
// seconds is accepted (`.` or `,`, any number of digits), `T` and `Z` are
// upper case, the offset is required and Go ≥1.20 bounds it to ±23:59.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time as zot parses `expirationDate`, or null. Out-of-range
 * fields (month 13, February 30, hour 24, second 60) are refused, as Go does.
 * The fraction is kept to the millisecond, truncated.
 */
export function parseRfc3339(text: string): Date | null {
  const match = RFC3339.exec(text);
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = match.slice(7);
  const oh = Number(offsetHours);
  const om = Number(offsetMinutes);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59 || oh > 23 || om > 59) return null;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.padEnd(3, '0').slice(0, 3)));
  const offsetMs = (oh * 60 + om) * 60_000 * (sign === '-' ? -1 : 1);
  return new Date(date.getTime() - offsetMs);
}

function daysIn(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}
