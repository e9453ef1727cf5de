import { createHash } from 'node:crypto';
import type { MessageType } from './registry.js';

/**
 * Payload fields that identify a person, per message type, as dotted paths. A copy of production
 * traffic (`pnpm topics export`) masks them by default.
 *
 * - `customerId` names a customer: replaced by a pseudonym, the same one for the same customer in
 *   every message, so per-customer views still group correctly;
 * - an address's `city` and `line1` locate a person: replaced by a pseudonym as well. `country` is
 *   kept: the shipping service decides on it, so masking it would change what a replay does.
 * Amounts, skus and order ids identify no one and stay.
 */
export const piiFields: Partial<Record<MessageType, readonly string[]>> = {
  OrderPlaced: ['customerId', 'shippingAddress.city', 'shippingAddress.line1'],
  ChargePayment: ['customerId'],
  CreateShipment: ['address.city', 'address.line1'],
};

/**
 * A stable pseudonym of a PII value: `pii-<12 hex>` from a salted SHA-256, so the same value always
 * masks to the same pseudonym under one salt, and cannot be read back without it.
 */
export function pseudonym(value: string, salt: string): string {
  return `pii-${createHash('sha256').update(salt).update('\0').update(value).digest('hex').slice(0, 12)}`;
}

/**
 * Returns a copy of `payload` with the PII fields of `type` replaced by their {@link pseudonym}.
 * Types without PII are returned unchanged.
 */
export function maskPii(type: string, payload: unknown, salt: string): unknown {
  const fields = piiFields[type as MessageType];
  if (!fields || typeof payload !== 'object' || payload === null) return payload;
  const copy = structuredClone(payload) as Record<string, unknown>;
  for (const path of fields) {
    const parts = path.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const part of parts.slice(0, -1)) {
      const child: unknown = node?.[part];
      node = typeof child === 'object' && child !== null ? (child as Record<string, unknown>) : undefined;
    }
    const last = parts[parts.length - 1]!;
    if (node && typeof node[last] === 'string') node[last] = pseudonym(node[last], salt);
  }
  return copy;
}
