import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * Fingerprint of a request body for idempotency: SHA-256 of its RFC 8785 canonical JSON, so a
 * retry that serialises the same body with other key order or spacing still matches.
 */
export function requestHash(body: unknown): string {
  const canonical = canonicalize(body);
  if (canonical === undefined) throw new TypeError('request body has no JSON form');
  return createHash('sha256').update(canonical).digest('hex');
}
