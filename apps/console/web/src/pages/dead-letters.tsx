import { useState } from 'react';
import type { DeadLetter, DeadLetterTopic, ReplayResult } from '../api';
import { dateTime } from '../format';
import { navigate, useApi, useLocation } from '../hooks';
import type { SessionState } from '../main';

function pretty(value: string | null): string {
  if (value === null) return '(no payload)';
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

/** Each dead-letter topic, its messages with their cause, and replay (one, or all matching). */
export function DeadLettersPage({ session }: { session: SessionState }) {
  const { query } = useLocation();
  const topics = useApi<DeadLetterTopic[]>('/api/dead-letters', true);
  const topic = query.get('topic') ?? topics.data?.find((t) => t.messages > 0)?.topic ?? null;
  const filter = new URLSearchParams();
  for (const k of ['type', 'aggregateId']) if (query.get(k)) filter.set(k, query.get(k)!);
  const letters = useApi<DeadLetter[]>(topic ? `/api/dead-letters/${encodeURIComponent(topic)}?${filter}` : null, true);
  const [results, setResults] = useState<{ what: string; result?: ReplayResult; error?: string }[]>([]);
  const [type, setType] = useState(query.get('type') ?? '');
  const [aggregateId, setAggregateId] = useState(query.get('aggregateId') ?? '');

  function replay(what: string, body: Record<string, string>) {
    session
      .act<ReplayResult>(`/api/dead-letters/${encodeURIComponent(topic!)}/replay`, body)
      .then((result) => setResults((r) => [{ what, result }, ...r]))
      .catch((e: Error) => setResults((r) => [{ what, error: e.message }, ...r]))
      // The replay appended markers (and a poison message comes back as a new dead letter).
      .finally(letters.reload);
  }
  const go = (next: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v) params.set(k, v);
    navigate(`/dead-letters?${params}`);
  };

  return (
    <>
      <h1>Dead letters</h1>
      {topics.error && <p role="alert">{topics.error}</p>}
      <ul className="topics">
        {topics.data?.map((t) => (
          <li key={t.topic}>
            <button type="button" aria-pressed={t.topic === topic} onClick={() => go({ topic: t.topic })}>
              {t.topic} <span className="count-value">{t.messages}</span>
            </button>
          </li>
        ))}
      </ul>
      {topic && (
        <>
          <form
            className="filters"
            aria-label="Filter dead letters"
            onSubmit={(e) => {
              e.preventDefault();
              go({ topic, type, aggregateId });
            }}
          >
            <label>
              Type
              <input value={type} onChange={(e) => setType(e.target.value)} />
            </label>
            <label>
              Order (key)
              <input value={aggregateId} onChange={(e) => setAggregateId(e.target.value)} />
            </label>
            <button type="submit">Filter</button>
            <button
              type="button"
              disabled={!session.session.signedIn || !letters.data?.length}
              onClick={() => replay(`all ${letters.data?.length ?? 0} matching on ${topic}`, Object.fromEntries(filter))}
            >
              Replay all matching
            </button>
          </form>
          {!session.session.signedIn && <p className="hint">Sign in with the admin token to replay.</p>}
          {results.length > 0 && (
            <section aria-label="Replay results" className="results" aria-live="polite">
              <h2>Replay results</h2>
              <ul>
                {results.map((r, i) => (
                  <li key={i} className={r.error || r.result?.error ? 'failed' : 'ok'}>
                    {r.what}:{' '}
                    {r.error ?? r.result?.error ?? `replayed ${r.result!.replayed} (${r.result!.positions.join(', ')})`}
                  </li>
                ))}
              </ul>
            </section>
          )}
          <h2>{topic}</h2>
          {letters.error && <p role="alert">{letters.error}</p>}
          {letters.data?.length === 0 && <p>No messages.</p>}
          {!!letters.data?.length && (
            // The topic's count above also holds the replay markers; this one is the dead letters.
            <p className="muted">
              {letters.data.length} dead letter{letters.data.length === 1 ? '' : 's'}
              {filter.size > 0 && ' matching'}, {letters.data.filter((d) => !d.replayed).length} not replayed yet
            </p>
          )}
          {letters.data?.map((d) => (
            <article key={`${d.partition}:${d.offset}`} className="letter" data-position={`${d.partition}:${d.offset}`}>
              <h3>
                {d.type ?? '(no type)'} <span className="muted">at {d.partition}:{d.offset}</span>
                {d.replayed && <span className="badge replayed">replayed</span>}
              </h3>
              <dl className="facts">
                <dt>Error</dt>
                <dd>
                  {d.errorClass}: {d.errorMessage}
                </dd>
                <dt>Attempts</dt>
                <dd>{d.attempts}</dd>
                <dt>Failed</dt>
                <dd>
                  {d.firstFailureAt && dateTime(d.firstFailureAt)} → {d.lastFailureAt && dateTime(d.lastFailureAt)}
                </dd>
                <dt>Original</dt>
                <dd>
                  {d.originalTopic} [{d.originalPartition}] @{d.originalOffset}
                </dd>
                <dt>Key</dt>
                <dd>{d.key ?? '–'}</dd>
              </dl>
              <pre className="payload">{pretty(d.value)}</pre>
              <button
                type="button"
                disabled={!session.session.signedIn}
                onClick={() => replay(`${d.partition}:${d.offset}`, { position: `${d.partition}:${d.offset}` })}
              >
                Replay this message
              </button>
            </article>
          ))}
        </>
      )}
    </>
  );
}
