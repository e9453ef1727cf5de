export const money = (cents: number) => (cents / 100).toFixed(2);
export const ms = (n: number | null) => (n === null ? '–' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);
export const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 } as Intl.DateTimeFormatOptions);
export const dateTime = (iso: string) => new Date(iso).toLocaleString([], { hour12: false });
