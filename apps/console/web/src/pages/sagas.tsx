import { lazy, Suspense, useMemo, useState, type FormEvent } from 'react';
import { STATUSES, type OrderPage, type SagaSeries, type Stats } from '../api';
import { dateTime, money, ms, shortId } from '../format';
import { navigate, useApi, useLiveEvent, useLocation } from '../hooks';
import { Link } from '../main';

// The chart library (uPlot, ~23 kB gzipped) loads with the first page that draws a chart, not
// with every page of the console.
const Sparkline = lazy(() => import('../components/sparkline').then((m) => ({ default: m.Sparkline })));

/** Finished sagas per minute and their p50/p99 duration over the last half hour (pushed by the server). */
function Trends({ series }: { series: SagaSeries | undefined }) {
  const chart = useMemo(() => {
    const buckets = series?.buckets ?? [];
    // The newest bucket is the minute under way: the throughput quotes the last full one.
    const lastFull = buckets.at(-2);
    const lastTimed = [...buckets].reverse().find((b) => b.p50 !== null);
    const counts = buckets.map((b) => b.completed);
    return {
      times: buckets.map((b) => Date.parse(b.start) / 1000),
      throughput: [{ values: buckets.map((b) => b.completed), stroke: '#0b5cad' }],
      durations: [
        { values: buckets.map((b) => b.p50), stroke: '#1a6b30', points: true },
        { values: buckets.map((b) => b.p99), stroke: '#8a1c13', points: true },
      ],
      lastFull,
      lastTimed,
      maxCount: counts.length ? Math.max(...counts) : 0,
      maxP99: Math.max(0, ...buckets.map((b) => b.p99 ?? 0)),
    };
  }, [series]);
  return (
    <section aria-label="Last 30 minutes" className="trends">
      <figure className="trend">
        <figcaption>
          Finished per minute <strong>{chart.lastFull?.completed ?? '–'}</strong>
          <span className="muted"> (max {chart.maxCount}, 30 min)</span>
        </figcaption>
        <Suspense fallback={<div className="sparkline" />}>
          <Sparkline
            summary={`Sagas finished per minute over the last 30 minutes: ${chart.lastFull?.completed ?? 'no figure'} in the last full minute, at most ${chart.maxCount}`}
            times={chart.times}
            series={chart.throughput}
          />
        </Suspense>
      </figure>
      <figure className="trend">
        <figcaption>
          Duration <span className="key-p50">p50</span> <strong>{ms(chart.lastTimed?.p50 ?? null)}</strong>{' '}
          <span className="key-p99">p99</span> <strong>{ms(chart.lastTimed?.p99 ?? null)}</strong>
          <span className="muted"> (max p99 {ms(chart.maxP99 || null)})</span>
        </figcaption>
        <Suspense fallback={<div className="sparkline" />}>
          <Sparkline
            summary={`Place to end of saga over the last 30 minutes, per minute: p50 ${ms(chart.lastTimed?.p50 ?? null)} and p99 ${ms(chart.lastTimed?.p99 ?? null)} in the last minute with finished sagas, p99 at most ${ms(chart.maxP99 || null)}`}
            times={chart.times}
            series={chart.durations}
          />
        </Suspense>
      </figure>
    </section>
  );
}

const FILTERS = ['status', 'customerId', 'sku', 'placedFrom', 'placedTo'] as const;

/** Every saga, newest first, filtered and paginated by order-view; the filters live in the URL. */
export function SagasPage() {
  const { query } = useLocation();
  const list = new URLSearchParams();
  for (const name of [...FILTERS, 'cursor']) {
    const value = query.get(name);
    if (value) list.set(name, value);
  }
  list.set('limit', '25');
  // Only the first page follows the live feed: a later page would shift under the reader.
  const orders = useApi<OrderPage>(`/api/orders?${list}`, !query.get('cursor'));
  const stats = useApi<Stats>('/api/stats?window=15m', true);
  const series = useLiveEvent<SagaSeries>('series');
  const [draft, setDraft] = useState(() => Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])));

  function apply(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of FILTERS) {
      const value = draft[f]?.trim();
      if (value) next.set(f, f.startsWith('placed') ? new Date(value).toISOString() : value);
    }
    navigate(`/?${next}`);
  }

  return (
    <>
      <h1>Sagas</h1>
      <section aria-label="Last 15 minutes" className="counts">
        {STATUSES.map((s) => (
          <Link key={s} to={`/?status=${s}`} className={`count status-${s}`}>
            <span className="count-value">{stats.data?.ordersByStatus[s] ?? 0}</span> {s}
          </Link>
        ))}
        <span className="count">
          <span className="count-value">{stats.data ? stats.data.completedPerMinute.toFixed(1) : '–'}</span>{' '}
          done/min
        </span>
        <span className="count">
          <span className="count-value">{ms(stats.data?.placeToTerminalMs.CONFIRMED?.p50 ?? null)}</span> p50
          confirmed
        </span>
        <span className="count">
          <span className="count-value">{ms(stats.data?.placeToTerminalMs.CONFIRMED?.p99 ?? null)}</span> p99
          confirmed
        </span>
      </section>
      <Trends series={series} />
      <form className="filters" onSubmit={apply} aria-label="Filters">
        <label>
          Status
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Customer
          <input
            value={draft.customerId}
            onChange={(e) => setDraft({ ...draft, customerId: e.target.value })}
          />
        </label>
        <label>
          SKU
          <input value={draft.sku} onChange={(e) => setDraft({ ...draft, sku: e.target.value })} />
        </label>
        <label>
          Placed from
          <input
            type="datetime-local"
            value={draft.placedFrom?.slice(0, 16)}
            onChange={(e) => setDraft({ ...draft, placedFrom: e.target.value })}
          />
        </label>
        <label>
          Placed to
          <input
            type="datetime-local"
            value={draft.placedTo?.slice(0, 16)}
            onChange={(e) => setDraft({ ...draft, placedTo: e.target.value })}
          />
        </label>
        <button type="submit">Apply</button>
      </form>
      {orders.error && <p role="alert">{orders.error}</p>}
      <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
        <table>
          <caption className="visually-hidden">Orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Status</th>
              <th scope="col">Customer</th>
              <th scope="col">Total</th>
              <th scope="col">Duration</th>
              <th scope="col">Placed</th>
            </tr>
          </thead>
          <tbody>
            {orders.data?.items.map((o) => (
              <tr key={o.orderId} data-order-id={o.orderId}>
                <td>
                  <Link to={`/orders/${o.orderId}`}>{shortId(o.orderId)}</Link>
                </td>
                <td>
                  <span className={`badge status-${o.status}`}>{o.status}</span>
                  {o.reason && <span className="reason"> {o.reason}</span>}
                </td>
                <td>{o.customerId}</td>
                <td>{money(o.total)}</td>
                <td>{ms(o.durationMs)}</td>
                <td>{dateTime(o.placedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {orders.data?.items.length === 0 && <p>No orders match.</p>}
      <nav aria-label="Pagination" className="pager">
        {query.get('cursor') && (
          <button type="button" onClick={() => history.back()}>
            Previous page
          </button>
        )}
        {orders.data?.nextCursor && (
          <button
            type="button"
            onClick={() => {
              const next = new URLSearchParams(query);
              next.set('cursor', orders.data!.nextCursor!);
              navigate(`/?${next}`);
            }}
          >
            Next page
          </button>
        )}
      </nav>
    </>
  );
}
