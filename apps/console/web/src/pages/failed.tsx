import { useState } from 'react';
import type { OrderSummary } from '../api';
import { dateTime, money, shortId } from '../format';
import { useApi } from '../hooks';
import { Link, type SessionState } from '../main';

interface Failed {
  overdueAfterMinutes: number;
  failed: OrderSummary[];
  overdue: OrderSummary[];
}

/** Sagas whose compensation failed, and sagas still pending long after they were placed. */
export function FailedPage({ session }: { session: SessionState }) {
  const { data, error, reload } = useApi<Failed>('/api/failed-sagas', true);
  const [outcomes, setOutcomes] = useState<Record<string, string>>({});
  const retry = (orderId: string) =>
    session
      .act<{ status: string }>(`/api/sagas/${orderId}/retry`)
      .then((saga) => setOutcomes((o) => ({ ...o, [orderId]: `retried: ${saga.status}` })))
      .catch((e: Error) => setOutcomes((o) => ({ ...o, [orderId]: `refused: ${e.message}` })))
      .finally(reload);
  const table = (title: string, orders: OrderSummary[], canRetry: boolean) => (
    <section aria-label={title}>
      <h2>
        {title} ({orders.length})
      </h2>
      {orders.length === 0 ? (
        <p>None.</p>
      ) : (
        <div className="table-wrap" role="region" aria-label="table (scrolls sideways)" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Reason</th>
                <th scope="col">Customer</th>
                <th scope="col">Total</th>
                <th scope="col">Placed</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.orderId}>
                  <td>
                    <Link to={`/orders/${o.orderId}`}>{shortId(o.orderId)}</Link>
                  </td>
                  <td>{o.reason ?? '–'}</td>
                  <td>{o.customerId}</td>
                  <td>{money(o.total)}</td>
                  <td>{dateTime(o.placedAt)}</td>
                  <td>
                    {canRetry && (
                      <button type="button" disabled={!session.session.signedIn} onClick={() => retry(o.orderId)}>
                        Retry compensation
                      </button>
                    )}
                    {outcomes[o.orderId] && <span role="status"> {outcomes[o.orderId]}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
  return (
    <>
      <h1>Failed and overdue sagas</h1>
      {error && <p role="alert">{error}</p>}
      {!session.session.signedIn && <p className="hint">Sign in with the admin token to retry.</p>}
      {data && table('Compensation failed', data.failed, true)}
      {data && table(`Pending for more than ${data.overdueAfterMinutes} minutes`, data.overdue, false)}
    </>
  );
}
