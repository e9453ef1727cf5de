import type { MetricSample, SystemState } from '../api';
import { useApi } from '../hooks';

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

function Samples({ title, samples }: { title: string; samples: MetricSample[] }) {
  return (
    <section aria-label={title}>
      <h2>{title}</h2>
      {samples.length === 0 ? (
        <p>No samples.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Labels</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {samples.map((s, i) => (
                <tr key={i}>
                  <td>{s.name}</td>
                  <td>{labelText(s.labels)}</td>
                  <td>{s.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Outbox backlog and relay leadership, consumer lag (order service), projection lag (order-view). */
export function SystemPage() {
  const { data, error } = useApi<SystemState>('/api/system', true);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p>Loading…</p>;
  const metrics = Array.isArray(data.orderMetrics) ? data.orderMetrics : [];
  return (
    <>
      <h1>System</h1>
      {!Array.isArray(data.orderMetrics) && <p role="alert">order service metrics: {data.orderMetrics.error}</p>}
      <Samples title="Outbox (order service)" samples={metrics.filter((s) => s.name.startsWith('outbox_'))} />
      <Samples title="Consumer lag (order service's view of the broker)" samples={metrics.filter((s) => s.name.startsWith('consumer_'))} />
      <section aria-label="Projections">
        <h2>Projections (order-view)</h2>
        {data.orderView.error && <p role="alert">{data.orderView.error}</p>}
        <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Projection</th>
                <th scope="col">State</th>
                <th scope="col">Lag (messages)</th>
                <th scope="col">Lag (s)</th>
                <th scope="col">Progress</th>
              </tr>
            </thead>
            <tbody>
              {data.orderView.projections?.map((p) => (
                <tr key={p.name}>
                  <td>{p.name}</td>
                  <td>{p.state}</td>
                  <td>{p.lagMessages ?? '–'}</td>
                  <td>{p.lagSeconds ?? '–'}</td>
                  <td>{p.progress === null ? '–' : `${Math.round(p.progress * 100)}%`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <p>Spans kept in memory: {data.spansKept}</p>
    </>
  );
}
