import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { adminTokenMatches } from './admin-token.js';
import { ProcessNotRunning, UnknownProcess, type ProcessInfo, type Supervisor } from './supervisor.js';

/** The changes the control surface accepts: `POST /processes/<name>/<action>`. */
export const actions = ['start', 'stop', 'kill', 'pause', 'resume', 'restart'] as const;
export type Action = (typeof actions)[number];

/** What `GET /health` answers. */
export interface SupervisorHealth {
  status: 'ok' | 'degraded';
  processes: (ProcessInfo & { healthy: boolean | null })[];
}

async function probe(port: number | null, kind: 'http' | 'tcp' = 'http'): Promise<boolean | null> {
  if (port === null) return null;
  if (kind === 'tcp')
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const end = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => end(false));
      socket.once('connect', () => end(true)).once('error', () => end(false));
    });
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The supervisor's control surface, bound to 127.0.0.1 only:
 * - `GET /health` and `GET /processes`: every process with its pid, state, restarts and port
 *   (`/health` also probes each one's own /health; 200 either way, `status` says degraded);
 * - `POST /processes/<name>/<start|stop|kill|pause|resume|restart>`: needs
 *   `Authorization: Bearer <ADMIN_TOKEN>`.
 */
export function createControlServer(supervisor: Supervisor, adminToken: string | undefined): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/health') {
      const processes = await Promise.all(
        supervisor.list().map(async (p) => ({
          ...p,
          healthy: p.state === 'running' ? await probe(p.port, supervisor.probeOf(p.name)) : false,
        })),
      );
      const ok = processes.every((p) => p.state === 'running' && p.healthy !== false);
      return send(res, 200, { status: ok ? 'ok' : 'degraded', processes } satisfies SupervisorHealth);
    }
    if (req.method === 'GET' && url.pathname === '/processes') return send(res, 200, supervisor.list());
    const match = /^\/processes\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
    if (req.method === 'POST' && match) {
      const [, name, action] = match as unknown as [string, string, string];
      if (!adminToken) return send(res, 403, { error: 'changes are disabled: set ADMIN_TOKEN' });
      if (!adminTokenMatches(adminToken, req.headers.authorization))
        return send(res, 401, { error: 'this endpoint requires Authorization: Bearer <ADMIN_TOKEN>' });
      if (!(actions as readonly string[]).includes(action))
        return send(res, 404, { error: `unknown action ${action} (one of ${actions.join(', ')})` });
      const name_ = decodeURIComponent(name);
      if (!supervisor.has(name_))
        return send(res, 404, {
          error: new UnknownProcess(
            name_,
            supervisor.list().map((p) => p.name),
          ).message,
        });
      return send(res, 200, await supervisor[action as Action](name_));
    }
    send(res, 404, { error: 'not found' });
  };
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof UnknownProcess ? 404 : error instanceof ProcessNotRunning ? 409 : 500;
      send(res, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
}
