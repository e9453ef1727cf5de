import { StrictMode, useEffect, useState, type MouseEvent, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { api, ApiError, setCsrf, type Session } from './api';
import { navigate, useLocation } from './hooks';
import { DeadLettersPage } from './pages/dead-letters';
import { DrillsPage } from './pages/drills';
import { FailedPage } from './pages/failed';
import { OrderPage } from './pages/order';
import { SagasPage } from './pages/sagas';
import { SystemPage } from './pages/system';
import './style.css';

/** An in-page link: keeps the page (and its live feed) instead of reloading it. */
export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  const onClick = (event: MouseEvent) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className}>
      {children}
    </a>
  );
}

const NAV = [
  ['/', 'Sagas'],
  ['/dead-letters', 'Dead letters'],
  ['/failed', 'Failed sagas'],
  ['/system', 'System'],
  ['/drills', 'Drills'],
] as const;

export interface SessionState {
  session: Session;
  /** Runs an action; a refusal (no or expired session) shows the sign-in form again. */
  act<T>(path: string, body?: unknown): Promise<T>;
}

function SignIn({ session, onChange }: { session: Session; onChange: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  if (!session.actionsEnabled) return <p className="session">Read-only: ADMIN_TOKEN is not set</p>;
  if (session.signedIn) {
    return (
      <div className="session">
        <span>Admin session</span>
        <button type="button" onClick={() => api<Session>('/api/session', { method: 'DELETE' }).then(onChange)}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <form
      className="session"
      onSubmit={(e) => {
        e.preventDefault();
        api<Session>('/api/session', { method: 'POST', body: { token } })
          .then((s) => (setToken(''), setError(null), onChange(s)))
          .catch((err: Error) => setError(err.message));
      }}
    >
      <label htmlFor="admin-token">Admin token</label>
      <input id="admin-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
      <button type="submit">Sign in</button>
      {error && <span role="alert">{error}</span>}
    </form>
  );
}

function App() {
  const { path } = useLocation();
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    api<Session>('/api/session').then(update);
  }, []);
  function update(s: Session) {
    setCsrf(s.csrf);
    setSession(s);
  }
  const state: SessionState | null = session && {
    session,
    act: async <T,>(p: string, body?: unknown) => {
      try {
        return await api<T>(p, { method: 'POST', body: body ?? {} });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) update({ ...session, signedIn: false, csrf: null });
        throw error;
      }
    },
  };
  const order = /^\/orders\/([0-9a-f-]{36})$/.exec(path);
  let page: ReactNode;
  if (order) page = <OrderPage orderId={order[1]!} />;
  else if (path === '/dead-letters') page = state && <DeadLettersPage session={state} />;
  else if (path === '/failed') page = state && <FailedPage session={state} />;
  else if (path === '/system') page = <SystemPage />;
  else if (path === '/drills') page = state && <DrillsPage session={state} />;
  else page = <SagasPage />;
  return (
    <>
      <header>
        <span className="brand">order-saga console</span>
        <nav aria-label="Pages">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} className={path === to ? 'current' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        {session && <SignIn session={session} onChange={update} />}
      </header>
      <main>{page}</main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
