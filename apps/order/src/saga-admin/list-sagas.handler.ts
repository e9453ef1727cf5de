import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PrismaService } from '../infra/prisma.service.js';
import {
  SAGA_VIEW_COLUMNS,
  toSagaView,
  type ListSagasQuery,
  type SagaPage,
  type SagaViewRow,
} from './saga-admin.view.js';

/** A page of sagas, optionally of one status, in order id order (uuidv7: placement order). */
export class ListSagas extends Query<SagaPage> {
  constructor(readonly query: ListSagasQuery) {
    super();
  }
}

@QueryHandler(ListSagas)
export class ListSagasHandler implements IQueryHandler<ListSagas> {
  constructor(private readonly prisma: PrismaService) {}

  async execute({ query }: ListSagas): Promise<SagaPage> {
    // Keyset pagination on the primary key: a page costs the same on the first and the last page.
    // One row more than the page tells whether there is a next one.
    const rows = await this.prisma.$queryRawUnsafe<SagaViewRow[]>(
      `SELECT ${SAGA_VIEW_COLUMNS} FROM saga
        WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR order_id > $2::uuid)
        ORDER BY order_id LIMIT $3`,
      query.status ?? null,
      query.after ?? null,
      query.limit + 1,
    );
    const page = rows.slice(0, query.limit);
    return {
      sagas: page.map(toSagaView),
      next: rows.length > query.limit ? (page.at(-1)?.orderId ?? null) : null,
    };
  }
}
