import type { ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { AdminAccessRefused, AdminTokenGuard } from './admin-token.guard.js';

const token = 'a-long-enough-admin-token';
const request = (authorization?: string) =>
  ({
    switchToHttp: () => ({
      getRequest: () => ({ headers: authorization === undefined ? {} : { authorization } }),
    }),
  }) as unknown as ExecutionContext;
const refusal = (guard: AdminTokenGuard, authorization?: string) => {
  try {
    guard.canActivate(request(authorization));
  } catch (error) {
    if (error instanceof AdminAccessRefused) return error.problem;
    throw error;
  }
  return null;
};

describe('AdminTokenGuard', () => {
  it('lets a request with the configured bearer token through', () => {
    expect(new AdminTokenGuard({ adminToken: token }).canActivate(request(`Bearer ${token}`))).toBe(true);
  });

  it('refuses every request with 403 saying how to enable admin endpoints when no token is configured', () => {
    const guard = new AdminTokenGuard({ adminToken: undefined });
    for (const authorization of [undefined, `Bearer ${token}`, 'Bearer '])
      expect(refusal(guard, authorization)).toMatchObject({
        status: 403,
        detail: 'admin endpoints are disabled: set ADMIN_TOKEN',
      });
  });

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer not-the-admin-token'],
    ['a prefix of the token', `Bearer ${token.slice(0, 10)}`],
    ['the token with extra characters', `Bearer ${token}x`],
    ['another scheme', `Basic ${token}`],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s with 401', (_, authorization) => {
    expect(refusal(new AdminTokenGuard({ adminToken: token }), authorization)).toMatchObject({ status: 401 });
  });
});
