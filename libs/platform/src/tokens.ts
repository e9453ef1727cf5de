import type { ServiceConfig } from '@order-saga/config';
import type { SqlTx } from '@order-saga/outbox';

/** The service's validated configuration (`ServiceConfig`). */
export const CONFIG = Symbol('CONFIG');
/** The service's Prisma client; bind it with `{ provide: PRISMA, useExisting: PrismaService }`. */
export const PRISMA = Symbol('PRISMA');

/** What the platform needs from a service's Prisma client. */
export interface PrismaLike<Tx extends SqlTx = SqlTx> {
  $transaction<T>(work: (tx: Tx) => Promise<T>, options?: { maxWait?: number; timeout?: number }): Promise<T>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $disconnect(): Promise<void>;
}

export type { ServiceConfig };
