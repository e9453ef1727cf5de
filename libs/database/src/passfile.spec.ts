import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensurePasswords, passwordVariable } from './passfile.js';
import { PostgresUnreachableError, withoutPassword } from './postgres.js';
import { serviceRoles } from './service-databases.js';

const dirs: string[] = [];
const passfile = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'passfile-spec-'));
  dirs.push(dir);
  return join(dir, 'nested', 'pgpass');
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const roles = ['order', 'payment'].flatMap(serviceRoles);

describe('ensurePasswords', () => {
  it('generates a long random password per role, never the role’s name, in a file only its owner can read', async () => {
    const path = await passfile();
    const passwords = await ensurePasswords(path, roles, {});

    expect([...passwords.keys()]).toEqual(['order', 'order_migrator', 'payment', 'payment_migrator']);
    for (const [role, password] of passwords) {
      expect(password).not.toContain(role);
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(new Set(passwords.values()).size).toBe(4);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toContain(
      `*:*:order:order_migrator:${passwords.get('order_migrator')}\n`,
    );
  });

  it('keeps the passwords of an earlier run, so they are generated once per machine', async () => {
    const path = await passfile();
    const first = await ensurePasswords(path, roles.slice(0, 2), {});
    const second = await ensurePasswords(path, roles, {});

    expect(second.get('order')).toBe(first.get('order'));
    expect(second.get('order_migrator')).toBe(first.get('order_migrator'));
    expect(second.get('payment')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('takes a password from its environment variable, as docker-compose passes them from .env', async () => {
    expect(passwordVariable('order')).toBe('ORDER_DB_PASSWORD');
    expect(passwordVariable('order_migrator')).toBe('ORDER_MIGRATOR_PASSWORD');
    const passwords = await ensurePasswords(await passfile(), roles, { ORDER_DB_PASSWORD: 'from-env' });
    expect(passwords.get('order')).toBe('from-env');
  });

  it('refuses a password the file format could not hold', async () => {
    await expect(ensurePasswords(await passfile(), roles, { ORDER_DB_PASSWORD: 'a:b' })).rejects.toThrow(
      /ORDER_DB_PASSWORD must not contain ':'/,
    );
  });
});

describe('URLs in output', () => {
  it('withoutPassword keeps everything but the password', () => {
    expect(withoutPassword('postgresql://order:s3cret@db:5432/order?sslmode=require')).toBe(
      'postgresql://order@db:5432/order?sslmode=require',
    );
  });

  it('an unreachable-server error carries no password, since errors end up in logs', () => {
    const error = new PostgresUnreachableError('postgresql://order:s3cret@db:5432/order');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('s3cret');
  });
});
