import type { CSSProperties } from 'react';
import type { OrderDetail, Span } from '../api';
import { dateTime, money, ms, time } from '../format';
import { useApi } from '../hooks';

const SERVICES = ['order', 'inventory', 'payment', 'shipping'] as const;

/** One order across the four services: its messages as swimlanes, and its trace. */
export function OrderPage({ orderId }: { orderId: string }) {
  const { data: order, error } = useApi<OrderDetail>(`/api/orders/${orderId}`, true);
  if (error) return <p role="alert">{error}</p>;
  if (!order) return <p>Loading…</p>;
  return (
    <>
      <h1>
        Order <code>{order.orderId}</code>
      </h1>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <span className={`badge status-${order.status}`}>{order.status}</span>
        </dd>
        {order.reason && (
          <>
            <dt>Reason</dt>
            <dd className="reason">{order.reason}</dd>
          </>
        )}
        <dt>Customer</dt>
        <dd>{order.customerId}</dd>
        <dt>Items</dt>
        <dd>{order.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')}</dd>
        <dt>Total</dt>
        <dd>{money(order.total)}</dd>
        <dt>Placed</dt>
        <dd>{dateTime(order.placedAt)}</dd>
        <dt>Duration</dt>
        <dd>{ms(order.durationMs)}</dd>
      </dl>

      <h2>Messages</h2>
      <p className="hint">One lane per service that published; left to right in causal order. Compensations are dashed.</p>
      <div className="lanes" role="region" aria-label="swimlanes (scroll sideways)" tabIndex={0} style={{ '--steps': order.timeline.length } as CSSProperties}>
        {SERVICES.map((service) => (
          <section key={service} className="lane" aria-label={`${service} lane`} data-lane={service}>
            <h3>{service}</h3>
            <ol>
              {order.timeline.map((m, i) =>
                m.service === service ? (
                  <li key={i} className={m.compensation ? 'message compensation' : 'message'} style={{ gridColumn: i + 1 }}>
                    <strong>{m.type}</strong>
                    {m.compensation && <span className="tag">compensation</span>}
                    <span>
                      {m.topic} [{m.partition}] @{m.offset}
                    </span>
                    <time dateTime={m.occurredAt}>{time(m.occurredAt)}</time>
                  </li>
                ) : null,
              )}
            </ol>
          </section>
        ))}
      </div>

      <h2>Trace</h2>
      {order.traces.length === 0 && <p>No trace id was recorded on this order’s messages.</p>}
      {order.traces.map((t) => (
        <Waterfall key={t.traceId} traceId={t.traceId} spans={t.spans} jaegerUrl={t.jaegerUrl} error={t.error} />
      ))}
    </>
  );
}

function depthOf(span: Span, byId: Map<string, Span>): number {
  let depth = 0;
  for (let p = span.parentSpanId; p && byId.has(p) && depth < 50; p = byId.get(p)!.parentSpanId) depth++;
  return depth;
}

function Waterfall({ traceId, spans, jaegerUrl, error }: { traceId: string; spans: Span[]; jaegerUrl: string | null; error: string | null }) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 1);
  const services = [...new Set(spans.map((s) => s.service))].sort();
  return (
    <section className="trace" aria-label={`trace ${traceId}`}>
      <p>
        <code>{traceId}</code> · {spans.length} spans from {services.length} services ({services.join(', ')}) · {ms(total)}
        {jaegerUrl && (
          <>
            {' · '}
            <a href={jaegerUrl}>open in Jaeger</a>
          </>
        )}
      </p>
      {error && <p role="alert">{error}</p>}
      {spans.length === 0 && !error && (
        <p>
          No spans for this trace (yet):{' '}
          {jaegerUrl ? 'Jaeger does not know it yet.' : 'is OTEL_EXPORTER_OTLP_ENDPOINT pointed at the console?'}
        </p>
      )}
      <ol className="waterfall">
        {spans.map((s) => (
          <li key={s.spanId} data-service={s.service} className={s.error ? 'span error' : 'span'}>
            <span className="span-name" style={{ paddingLeft: `${depthOf(s, byId) * 0.75}rem` }}>
              <span className={`svc svc-${s.service}`}>{s.service}</span> {s.name}
            </span>
            <span className="span-track">
              <span
                className={`span-bar svc-${s.service}`}
                style={{ left: `${((s.startMs - start) / total) * 100}%`, width: `max(2px, ${(s.durationMs / total) * 100}%)` }}
              />
            </span>
            <span className="span-ms">{ms(s.durationMs)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
