import { Fragment, useState } from 'react';
import type { DrillReport, DrillRun, Drills } from '../api';
import { dateTime } from '../format';
import { useApi, useLiveEvent } from '../hooks';
import type { SessionState } from '../main';

const seconds = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);

/** A drill's report as `pnpm drill` prints it, every figure as text. */
function Report({ report }: { report: DrillReport }) {
  const outcomes = Object.entries(report.orders.byStatus)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  return (
    <section aria-label="Report" className="report">
      <h3>
        drill {report.drill}: <span className={report.pass ? 'pass' : 'fail'}>{report.pass ? 'PASS' : 'FAIL'}</span> in{' '}
        {seconds(report.durationMs)}
      </h3>
      <dl className="facts">
        <dt>Fault</dt>
        <dd>{report.fault.fault}</dd>
        {Object.entries(report.fault.figures).map(([name, value]) => (
          <Fragment key={name}>
            <dt className="figure">{name}</dt>
            <dd>{String(value)}</dd>
          </Fragment>
        ))}
        <dt>Orders</dt>
        <dd>
          placed {report.orders.placed}, accepted {report.orders.accepted}, refused {report.orders.refused}
        </dd>
        <dt>Outcomes</dt>
        <dd>{outcomes || '–'}</dd>
        <dt>Drain</dt>
        <dd>{report.drainMs === null ? 'NOT within the bound' : `${seconds(report.drainMs)} after the load`}</dd>
        <dt>Duplicates</dt>
        <dd>
          delivered {report.duplicates.delivered}, events re-published {report.duplicates.eventsRepublished}, duplicate
          effects {report.duplicates.effects}
        </dd>
      </dl>
      <h4>Invariants</h4>
      <ul className="invariants">
        {report.invariants.map((v) => (
          <li key={v.name} className={v.pass ? 'pass' : 'fail'}>
            <strong>{v.pass ? 'PASS' : 'FAIL'}</strong> {v.name}
            {!v.pass && v.detail && <span>: {v.detail}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Run({ run }: { run: DrillRun }) {
  const state = { running: 'running', passed: 'PASS', failed: 'FAIL', error: 'ended without a report' }[run.state];
  return (
    <section aria-label="Current drill" className="run" data-run-state={run.state}>
      <h2>
        {run.drill}
        {run.quick ? ' --quick' : ''}: {state}
      </h2>
      <p className="muted">
        started {dateTime(run.startedAt)}
        {run.endedAt && `, ended ${dateTime(run.endedAt)}`}
        {run.exitCode !== null && `, exit code ${run.exitCode}`}
      </p>
      {run.orders !== null && (
        <p>
          <label className="inline">
            Orders placed {run.placed} of {run.orders}
            <progress max={run.orders} value={run.placed} />
          </label>
        </p>
      )}
      <pre className="log" aria-label="Drill output" tabIndex={0}>
        {run.log.join('\n') || '…'}
      </pre>
      {run.report && <Report report={run.report} />}
    </section>
  );
}

/** The failure drills of `pnpm drill`: run one (admin), follow it live, read its report. */
export function DrillsPage({ session }: { session: SessionState }) {
  const { data, error } = useApi<Drills>('/api/drills');
  const pushed = useLiveEvent<DrillRun>('drill');
  const [quick, setQuick] = useState(true);
  const [refusal, setRefusal] = useState<string | null>(null);
  const run = pushed ?? data?.run ?? null;
  const running = run?.state === 'running';
  const start = (name: string) =>
    session
      .act<DrillRun>('/api/drills/run', { name, quick })
      .then(() => setRefusal(null))
      .catch((e: Error) => setRefusal(`${name} refused: ${e.message}`));

  return (
    <>
      <h1>Drills</h1>
      <p className="hint">
        Each drill starts a system of its own (scratch databases, its own topics, the four services), places orders, injects one
        fault and checks the invariants: with --quick each takes half a minute to a minute and a half here (broker-kill starts a
        3-node Kafka cluster of its own), without it several minutes (long-outage at least 5.5). One at a time.
      </p>
      {error && <p role="alert">{error}</p>}
      {data?.unavailable && <p role="alert">{data.unavailable}</p>}
      {!session.session.signedIn && <p className="hint">Sign in with the admin token to run a drill.</p>}
      {refusal && <p role="alert">{refusal}</p>}
      {run && <Run run={run} />}
      {data && data.drills.length > 0 && (
        <section aria-label="Drills">
          <h2>All drills ({data.drills.length})</h2>
          <label className="inline">
            <input type="checkbox" checked={quick} onChange={(e) => setQuick(e.target.checked)} /> --quick (CI-sized: at most 30
            orders, long faults shortened)
          </label>
          <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
            <table className="drills">
              <thead>
                <tr>
                  <th scope="col">Drill</th>
                  <th scope="col">What it does, what must hold</th>
                </tr>
              </thead>
              <tbody>
                {data.drills.map((d) => (
                  <tr key={d.name} data-drill={d.name}>
                    <td>
                      <div className="drill-name">
                        <code>{d.name}</code>
                        <button
                          type="button"
                          aria-label={`Run ${d.name}`}
                          disabled={!session.session.signedIn || running}
                          onClick={() => start(d.name)}
                        >
                          Run
                        </button>
                      </div>
                    </td>
                    <td className="summary">{d.summary}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </>
  );
}
