import { cpus, loadavg } from 'node:os';
import { build } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Percentiles of latencies given in microseconds (3 significant digits, up to 10 minutes). */
export function summarize(latenciesUs: Iterable<number>): LatencySummary {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const us of latenciesUs) histogram.recordValue(Math.max(1, Math.round(us)));
  const ms = (us: number) => us / 1000;
  const summary = {
    count: histogram.totalCount,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    maxMs: ms(histogram.maxValue),
  };
  histogram.destroy();
  return summary;
}

export interface Row {
  figure: string;
  value: string;
  target?: string;
  met?: boolean;
}

/** A plain fixed-width table: readable in a terminal and in a CI log. */
export function formatTable(rows: Row[]): string {
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const header = ['figure', 'value', 'target', 'met'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A Markdown table (first column left-aligned, the others right-aligned): for the README as it is. */
export function formatMarkdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, 3, ...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The machine a benchmark ran on, for its JSON line: cores, CPU model, Node, load before and after. */
export function machineInfo(loadBefore: number) {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadBefore,
    loadAfter: loadavg()[0]!,
  };
}
