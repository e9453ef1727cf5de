import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { workspaceRoot } from './workspace.js';

/**
 * Where `prepare` keeps the roles' passwords on this machine: PostgreSQL's own password file
 * format, so node-postgres, psql and pg_dump all find a password through `PGPASSFILE=<this path>`
 * and no URL, argument or log line ever has to carry one. `.run/` is ignored by git.
 */
export const defaultPassfile = (): string => join(workspaceRoot(), '.run', 'pgpass');

/** One role's password, for connections to one database. */
export interface RolePassword {
  database: string;
  role: string;
}

/**
 * 32 random bytes, base64url: 43 characters with no `:`, `\`, `@` or `/`, so the password needs no
 * escaping in a password file or a URL.
 */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The name of the environment variable that overrides a role's password:
 * `ORDER_DB_PASSWORD` for role `order`, `ORDER_MIGRATOR_PASSWORD` for `order_migrator`.
 * docker-compose sets them from `.env`; a machine running `./scripts/start` needs none.
 */
export function passwordVariable(role: string): string {
  const upper = role.toUpperCase();
  return upper.endsWith('_MIGRATOR') ? `${upper}_PASSWORD` : `${upper}_DB_PASSWORD`;
}

/**
 * The password of each role: from its environment variable ({@link passwordVariable}) when set,
 * else the one already in the password file, else a new random one. The file is (re)written with
 * mode 0600 (libpq and node-postgres ignore a password file that others can read), so the
 * passwords are generated once per machine and stay the same on every later run.
 *
 * @returns passwords by role name. Never print them: they are what the file protects.
 */
export async function ensurePasswords(
  path: string,
  roles: readonly RolePassword[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Map<string, string>> {
  const existing = await readPassfile(path);
  const known = new Map(existing.map((e) => [`${e.database}:${e.role}`, e.password]));
  const passwords = new Map<string, string>();
  for (const { database, role } of roles) {
    const password = env[passwordVariable(role)] || known.get(`${database}:${role}`) || randomPassword();
    if (/[:\\\n]/.test(password)) {
      throw new Error(`${passwordVariable(role)} must not contain ':', '\\' or a line break`);
    }
    passwords.set(role, password);
    known.set(`${database}:${role}`, password);
  }
  const lines = [...known].map(([key, password]) => {
    const [database, role] = key.split(':') as [string, string];
    return `*:*:${database}:${role}:${password}`;
  });
  await mkdir(dirname(path), { recursive: true });
  // A fresh file renamed over the old one: a reader never sees half a file, and the mode is 0600
  // from the first byte written.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(
    temporary,
    `# Passwords of the order-saga database roles on this machine, written by \`cli.js prepare\`.\n` +
      `# Read through PGPASSFILE; never commit, print or share this file.\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return passwords;
}

interface PassfileEntry extends RolePassword {
  password: string;
}

async function readPassfile(path: string): Promise<PassfileEntry[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .flatMap((line) => {
      const [, , database, role, password] = line.split(':');
      return database && role && password ? [{ database, role, password }] : [];
    });
}
