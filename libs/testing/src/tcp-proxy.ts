import { createServer, createConnection, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test puts between a service and a shared server (PostgreSQL, Kafka) to simulate an
 * outage without stopping the server every other suite uses: `cut()` drops every connection and
 * refuses new ones until `restore()`; `blackHole()` keeps every connection open but forwards
 * nothing more, in either direction — a half-open path, as a dead NAT entry or a pulled cable
 * leaves it, which neither end notices on its own.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private down = false;
  private silent = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (this.down) return void client.destroy();
      this.track(client);
      if (this.silent) return void client.resume();
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      this.track(upstream);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.pipe(upstream).pipe(client);
      // A close travels to the other side only while the path works: behind a black hole, a peer
      // that gives up is not heard by the other, which must find out on its own.
      client.on('close', () => this.pairs.delete(pair) && upstream.destroy());
      upstream.on('close', () => this.pairs.delete(pair) && client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Drops open connections and refuses new ones. */
  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  /**
   * Stops forwarding on every open connection and accepts new ones without forwarding either, while
   * every socket stays open: bytes are read and discarded, so neither peer sees an error, a close
   * or even a full window — and when one peer gives up and closes, the other is not told.
   */
  blackHole(): void {
    this.silent = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.resume();
      upstream.resume();
    }
    this.pairs.clear();
  }

  /** New connections go through again (black-holed ones stay silent until closed). */
  restore(): void {
    this.down = false;
    this.silent = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }
}
