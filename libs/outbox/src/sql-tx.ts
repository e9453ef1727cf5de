/**
 * The slice of a Prisma interactive-transaction client that the messaging libs use. Any
 * `prisma.$transaction(async (tx) => …)` client satisfies it, so the outbox rows and the inbox
 * record are written through the caller's own transaction, never a second connection.
 */
export interface SqlTx {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}
