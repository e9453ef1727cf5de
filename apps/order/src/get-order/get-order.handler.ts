import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { PrismaService } from '../infra/prisma.service.js';
import { toOrderView, type OrderView } from './order.view.js';

/** An order and its history, or `null` if there is no such order. */
export class GetOrder extends Query<OrderView | null> {
  constructor(readonly orderId: string) {
    super();
  }
}

@QueryHandler(GetOrder)
export class GetOrderHandler implements IQueryHandler<GetOrder> {
  constructor(private readonly prisma: PrismaService) {}

  async execute({ orderId }: GetOrder): Promise<OrderView | null> {
    const row = await this.prisma.order.findUnique({
      where: { id: orderId },
      // saga_step ids grow with time within an order: id order is the order things happened in.
      include: { items: { orderBy: { sku: 'asc' } }, steps: { orderBy: { id: 'asc' } } },
    });
    return row && toOrderView(row);
  }
}
