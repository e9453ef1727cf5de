export const money = (cents: number) => (cents / 100).toFixed(2);
export const ms = (n: number | null) => (n === null ? '–' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);
export const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 } as Intl.DateTimeFormatOptions);
export const dateTime = (iso: string) => new Date(iso).toLocaleString([], { hour12: false });

/** 93,600 s → "1 d 2 h"; the coarse units a headroom is read in. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'no limit';
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [unit, size] of units) {
    if (rest >= size || (parts.length === 0 && size === 1)) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/**
 * An order id short enough for a table. Order ids are UUIDv7: the first digits are the time, so
 * orders placed within a minute share them ("01a23584" for both orders of one screenshot); the
 * last digits are random and tell them apart.
 */
export const shortId = (id: string) => `${id.slice(0, 8)}…${id.slice(-4)}`;
