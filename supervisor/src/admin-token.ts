import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <token>` the way libs/platform's AdminTokenGuard does: SHA-256
 * digests compared with `timingSafeEqual`, so neither the length nor a matching prefix of a
 * guess shows in the response time. No configured token means every change is refused.
 */
export function adminTokenMatches(expected: string | undefined, authorization: string | undefined): boolean {
  if (!expected) return false;
  const token = authorization ? /^Bearer +(\S+) *$/i.exec(authorization)?.[1] : undefined;
  return token !== undefined && timingSafeEqual(sha256(token), sha256(expected));
}
