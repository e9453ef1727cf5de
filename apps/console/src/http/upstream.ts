/** A failed call to another service, passed on to the page with the upstream's status. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** Calls another service's JSON API with a timeout; non-2xx answers become {@link UpstreamError}. */
export async function callJson(url: string, init: RequestInit = {}, timeoutMs = 5_000): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new UpstreamError(502, null, `${new URL(url).origin} unreachable: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a non-JSON answer (metrics text, an HTML error page) is passed on as text
  }
  if (!response.ok) throw new UpstreamError(response.status, body, `${new URL(url).pathname} answered ${response.status}`);
  return body;
}

/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of the named metric families from a Prometheus text exposition. */
export function metricSamples(text: string, names: readonly string[]): MetricSample[] {
  const wanted = new Set(names);
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || !wanted.has(match[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}
