// The console's own API, typed as the page uses it.

export type Status = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'COMPENSATION_FAILED';
export const STATUSES: Status[] = ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED', 'COMPENSATION_FAILED'];

export interface OrderSummary {
  orderId: string;
  status: Status;
  reason: string | null;
  customerId: string;
  items: { sku: string; quantity: number }[];
  total: number;
  placedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}
export interface OrderPage {
  items: OrderSummary[];
  nextCursor: string | null;
}
export interface TimelineItem {
  service: 'order' | 'inventory' | 'payment' | 'shipping';
  type: string;
  topic: string;
  partition: number;
  offset: number;
  occurredAt: string;
  traceId: string | null;
  compensation: boolean;
}
export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  service: string;
  startMs: number;
  durationMs: number;
  error: boolean;
}
export interface OrderDetail extends OrderSummary {
  timeline: TimelineItem[];
  traces: { traceId: string; jaegerUrl: string | null; spans: Span[]; error: string | null }[];
}
export interface Stats {
  window: string;
  ordersByStatus: Record<string, number>;
  completedPerMinute: number;
  placeToTerminalMs: Record<string, { orders: number; p50: number; p95: number; p99: number }>;
  compensations: number;
  deadLetters: number;
}
export interface DeadLetterTopic {
  topic: string;
  messages: number;
}
export interface DeadLetter {
  dltTopic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  messageId?: string;
  type?: string;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  errorClass: string;
  errorMessage: string;
  attempts: number;
  firstFailureAt: string;
  lastFailureAt: string;
  /** A replay marker names it: it was sent back to its topic already. */
  replayed: boolean;
}
export interface ReplayResult {
  replayed: number;
  positions: string[];
  error: string | null;
}
export interface Session {
  actionsEnabled: boolean;
  signedIn: boolean;
  csrf: string | null;
}
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface RetentionHeadroom {
  topic: string;
  partition: number;
  position: number;
  earliestRetained: number;
  latest: number;
  headroomMessages: number;
  retentionMs: number | null;
}
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'firing' | 'pending' | 'inactive';
  activeAt?: string;
  value?: string;
}
export interface SystemState {
  orderMetrics: MetricSample[] | { error: string };
  orderView: {
    projections?: {
      name: string;
      state: string;
      lagMessages: number | null;
      lagSeconds: number | null;
      progress: number | null;
      rebuildableFromStart: boolean | null;
      retention: RetentionHeadroom[];
    }[];
    error?: string;
  };
  prometheus: { url: string; running: true; alerts: Alert[] } | { url: string; running: false; error: string };
  supervisor: { url: string; running: true; processes: SupervisedProcess[] } | { url: string; running: false; error: string };
  spansKept: number;
}
/** A process of ./scripts/start's supervisor (its GET /processes). */
export interface SupervisedProcess {
  name: string;
  group: string;
  pid: number | null;
  state: string;
  restarts: number;
  port: number | null;
  nextStartInMs: number | null;
}
/** The saga series of the last half hour, one bucket a minute (order-view's /stats/series). */
export interface SagaSeries {
  window: string;
  step: string;
  buckets: { start: string; completed: number; p50: number | null; p99: number | null }[];
}
export interface DrillInfo {
  name: string;
  summary: string;
}
/** What `pnpm drill --json` reports (e2e/src/drills/drill.ts). */
export interface DrillReport {
  drill: string;
  orders: { placed: number; accepted: number; refused: number; byStatus: Record<string, number> };
  fault: { fault: string; proven: boolean; figures: Record<string, number | string> };
  drainMs: number | null;
  durationMs: number;
  duplicates: { delivered: number; eventsRepublished: number; effects: number };
  invariants: { name: string; pass: boolean; detail: string }[];
  pass: boolean;
}
export interface DrillRun {
  id: string;
  drill: string;
  quick: boolean;
  startedAt: string;
  endedAt: string | null;
  state: 'running' | 'passed' | 'failed' | 'error';
  placed: number;
  orders: number | null;
  log: string[];
  report: DrillReport | null;
  exitCode: number | null;
}
export interface Drills {
  unavailable: string | null;
  drills: DrillInfo[];
  run: DrillRun | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf: string | null = null;

/** Remembers the session's CSRF token; every action sends it back in a header. */
export function setCsrf(token: string | null): void {
  csrf = token;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.method && init.method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: 'same-origin',
  });
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  if (!response.ok) throw new ApiError(response.status, body.message ?? `HTTP ${response.status}`);
  return body as T;
}
