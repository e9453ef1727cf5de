import type { MetricSample, RetentionHeadroom, SystemState } from '../api';
import { dateTime, duration } from '../format';
import { useApi } from '../hooks';

/**
 * Per topic, summed over its partitions: the messages retention may still delete that the
 * projection has already applied (its headroom), and those it has not applied yet (which
 * retention must not reach).
 */
function byTopic(partitions: RetentionHeadroom[]) {
  const topics = new Map<string, { topic: string; partitions: number; headroom: number; behind: number; retentionMs: number | null; deleted: boolean }>();
  for (const p of partitions) {
    const t = topics.get(p.topic) ?? { topic: p.topic, partitions: 0, headroom: 0, behind: 0, retentionMs: p.retentionMs, deleted: false };
    t.partitions++;
    t.headroom += p.headroomMessages;
    t.behind += Math.max(0, p.latest - p.position);
    t.deleted ||= p.earliestRetained > 0;
    topics.set(p.topic, t);
  }
  return [...topics.values()];
}

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

/**
 * Outbox backlog and relay leadership, consumer lag and retention headroom (order service),
 * firing alerts (Prometheus), projection lag and retention headroom (order-view).
 */
export function SystemPage() {
  const { data, error } = useApi<SystemState>('/api/system', true);
  if (error) return <p role="alert">{error}</p>;
  if (!data) return <p>Loading…</p>;
  const metrics = Array.isArray(data.orderMetrics) ? data.orderMetrics : [];
  const headroom = metrics.filter((s) => s.name === 'retention_headroom_seconds');
  return (
    <>
      <h1>System</h1>
      {!Array.isArray(data.orderMetrics) && <p role="alert">order service metrics: {data.orderMetrics.error}</p>}
      <Samples title="Outbox (order service)" samples={metrics.filter((s) => s.name.startsWith('outbox_'))} />
      <Samples title="Consumer lag (order service's view of the broker)" samples={metrics.filter((s) => s.name.startsWith('consumer_'))} />
      <section aria-label="Processes">
        <h2>Processes (supervisor)</h2>
        {!data.supervisor.running ? (
          <p>
            The supervisor does not answer at <code>{data.supervisor.url}</code> ({data.supervisor.error}).{' '}
            <span className="hint">./scripts/start runs one; it restarts a process that dies.</span>
          </p>
        ) : (
          <div className="table-wrap" role="region" aria-label="processes table (scrolls sideways)" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Process</th>
                  <th scope="col">State</th>
                  <th scope="col">Restarts</th>
                  <th scope="col">pid</th>
                  <th scope="col">Port</th>
                </tr>
              </thead>
              <tbody>
                {data.supervisor.processes.map((p) => (
                  <tr key={p.name} className={p.state === 'running' ? undefined : 'fail'}>
                    <td>{p.name}</td>
                    <td>
                      {p.state}
                      {p.nextStartInMs !== null ? ` (restart in ${(p.nextStartInMs / 1000).toFixed(1)} s)` : ''}
                    </td>
                    <td>{p.restarts}</td>
                    <td>{p.pid ?? '–'}</td>
                    <td>{p.port ?? '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-label="Alerts">
        <h2>Alerts (Prometheus)</h2>
        {!data.prometheus.running ? (
          <p>
            Prometheus not running at <code>{data.prometheus.url}</code> ({data.prometheus.error}): no alert can be shown.{' '}
            <span className="hint">./scripts/start --observe runs it with the alert rules.</span>
          </p>
        ) : data.prometheus.alerts.length === 0 ? (
          <p>No alert firing or pending (Prometheus at <code>{data.prometheus.url}</code>).</p>
        ) : (
          <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Alert</th>
                  <th scope="col">State</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Since</th>
                  <th scope="col">Summary</th>
                </tr>
              </thead>
              <tbody>
                {data.prometheus.alerts.map((a, i) => (
                  <tr key={i} className={a.state === 'firing' ? 'fail' : undefined}>
                    <td>{a.labels.alertname}</td>
                    <td>{a.state}</td>
                    <td>{a.labels.severity ?? '–'}</td>
                    <td>{a.activeAt ? dateTime(a.activeAt) : '–'}</td>
                    <td className="summary">{a.annotations.summary ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-label="Retention headroom of consumer groups">
        <h2>Retention headroom (consumer groups)</h2>
        <p className="hint">Time before retention deletes the oldest message a group has not read (order service's broker monitor).</p>
        {headroom.length === 0 ? (
          <p>No samples.</p>
        ) : (
          <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Topic</th>
                  <th scope="col">Headroom</th>
                </tr>
              </thead>
              <tbody>
                {headroom.map((s, i) => (
                  <tr key={i}>
                    <td>{s.labels.group}</td>
                    <td>{s.labels.topic}</td>
                    <td>{duration(s.value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
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
        {data.orderView.projections?.map((p) => (
          <section key={p.name} aria-label={`Retention headroom of ${p.name}`}>
            <h3>Retention headroom of {p.name}</h3>
            <p className="hint">
              Per topic: the messages between the retention horizon and the projection's position (retention may delete them
              without loss to the live projection, though a rebuild needs them), and those not applied yet, which it must not reach. {p.rebuildableFromStart === false ? 'Retention has deleted history: a rebuild from offset 0 is no longer possible.' : p.rebuildableFromStart ? 'Every topic still holds offset 0: a rebuild is possible.' : ''}
            </p>
            <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Topic</th>
                    <th scope="col">Partitions</th>
                    <th scope="col">Retention</th>
                    <th scope="col">Retained, applied (messages)</th>
                    <th scope="col">Not applied yet</th>
                    <th scope="col">History deleted</th>
                  </tr>
                </thead>
                <tbody>
                  {byTopic(p.retention).map((t) => (
                    <tr key={t.topic}>
                      <td>{t.topic}</td>
                      <td>{t.partitions}</td>
                      <td>{t.retentionMs === null || t.retentionMs < 0 ? 'no limit' : duration(t.retentionMs / 1000)}</td>
                      <td>{t.headroom}</td>
                      <td>{t.behind}</td>
                      <td>{t.deleted ? 'yes' : 'no'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        ))}
      </section>
      <p>Spans kept in memory: {data.spansKept}</p>
    </>
  );
}
