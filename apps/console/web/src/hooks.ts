import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { api } from './api';

// --- the live feed: one EventSource for the whole page, shared by every component ---
// `changed`: the sagas changed (pages reload what they show); `series`: the saga series for the
// sparklines; `drill`: the running drill. The server sends each event's last value on connect.
const EVENTS = ['changed', 'series', 'drill'] as const;
export type LiveEvent = (typeof EVENTS)[number];

let version = 0;
const latest = new Map<LiveEvent, unknown>();
const listeners = new Set<() => void>();
let source: EventSource | null = null;

function subscribeLive(listener: () => void): () => void {
  listeners.add(listener);
  if (!source) {
    source = new EventSource('/api/events');
    for (const name of EVENTS) {
      source.addEventListener(name, (event) => {
        if (name === 'changed') version++;
        latest.set(name, JSON.parse((event as MessageEvent<string>).data));
        for (const l of listeners) l();
      });
    }
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      source?.close();
      source = null;
    }
  };
}

/** A number that grows each time the server says the sagas changed (server-sent events). */
export function useLive(): number {
  return useSyncExternalStore(subscribeLive, () => version);
}

/** The last value the server pushed as `event`, or undefined before the first one. */
export function useLiveEvent<T>(event: LiveEvent): T | undefined {
  return useSyncExternalStore(subscribeLive, () => latest.get(event) as T | undefined);
}

/** Loads `path` now, again whenever it changes, and again on each live change if `live`. */
export function useApi<T>(path: string | null, live = false) {
  const tick = useLive();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const liveTick = live ? tick : 0;
  useEffect(() => {
    if (!path) return;
    let current = true;
    api<T>(path)
      .then((d) => current && (setData(d), setError(null)))
      .catch((e: Error) => current && setError(e.message));
    return () => {
      current = false;
    };
  }, [path, liveTick, reloads]);
  return { data, error, reload };
}

// --- routing: the URL is the state (path and filters), so a view can be linked and reloaded ---
const routeListeners = new Set<() => void>();
window.addEventListener('popstate', () => routeListeners.forEach((l) => l()));

export function navigate(to: string): void {
  history.pushState(null, '', to);
  routeListeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(
    (l) => (routeListeners.add(l), () => routeListeners.delete(l)),
    () => location.pathname + location.search,
  );
  const url = new URL(href, location.origin);
  return { path: url.pathname, query: url.searchParams };
}
