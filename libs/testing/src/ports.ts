import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel hands out local ports for outgoing connections from this range (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default). A port found free there by
 * listening on port 0 can be taken by any process's next outgoing connection (a Kafka or
 * PostgreSQL client) before the service that was given it listens: CI saw a service die with
 * EADDRINUSE that way. Ports for test services therefore come from below the range.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 20_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const FIRST = 15_000;
const handedOut = new Set<number>();

const canListen = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });

/**
 * A port no one listens on, outside the kernel's ephemeral range, never handed out twice by this
 * process. Services listen on all interfaces, so both the wildcard and loopback are checked.
 */
export async function freePort(): Promise<number> {
  const last = ephemeralLow() - 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (last - FIRST + 1));
    if (handedOut.has(port)) continue;
    // Reserved before the checks, so concurrent calls never pick the same port.
    handedOut.add(port);
    if ((await canListen(port, '0.0.0.0')) && (await canListen(port, '127.0.0.1'))) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free port found between ${FIRST} and ${last}`);
}
