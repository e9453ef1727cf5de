import pg from 'pg';

/** The admin connection used when `DATABASE_ADMIN_URL` is not set: the local cluster, trust auth. */
export const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

// Error codes that mean "no server there" rather than "the server said no".
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  '57P03',
]);

/** Thrown when no PostgreSQL server answers at the URL; its message says how to start one. */
export class PostgresUnreachableError extends Error {
  /** The URL that was tried, without its password: errors end up in logs. */
  readonly url: string;

  constructor(url: string, options?: { cause?: unknown }) {
    const { host, port } = new URL(url);
    super(
      `PostgreSQL not reachable at ${host}${port ? '' : ':5432'}: start it with ` +
        '`pg_ctlcluster $(ls /etc/postgresql) main start`, or set DATABASE_ADMIN_URL to a running server',
      options,
    );
    this.name = 'PostgresUnreachableError';
    this.url = withoutPassword(url);
  }
}

/**
 * Opens a client on `url`, runs `fn`, and closes the client whatever happens. A connection that
 * fails because nothing listens becomes a {@link PostgresUnreachableError}.
 */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    if (UNREACHABLE_CODES.has((error as { code?: string }).code ?? '')) {
      throw new PostgresUnreachableError(url, { cause: error });
    }
    throw error;
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Throws {@link PostgresUnreachableError} unless a server answers at `url`. */
export async function assertPostgresReachable(url: string): Promise<void> {
  await withClient(url, (client) => client.query('SELECT 1'));
}

/** `url` with another database and, when given, another user and password. */
export function withDatabase(
  url: string,
  database: string,
  credentials?: { user: string; password: string },
): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  if (credentials) {
    u.username = encodeURIComponent(credentials.user);
    u.password = encodeURIComponent(credentials.password);
  }
  return u.toString();
}

/** `url` without its password, for anything that is printed or logged. */
export function withoutPassword(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

/**
 * Names this lib turns into roles and databases: one spelling that works as a role, a database and
 * a URL part. They are still quoted in SQL (`order` is a keyword).
 */
export function assertPlainIdentifier(kind: string, name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`${kind} "${name}" must be lower-case letters, digits and _, at most 63 characters`);
  }
}

export const { escapeIdentifier, escapeLiteral } = pg;
