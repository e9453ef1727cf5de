import type { INestApplication } from '@nestjs/common';
import { configureHttp } from '@order-saga/http';

/** The order API's HTTP set-up: problem+json errors, OpenAPI at `/docs`, a 64 KiB body limit. */
export function configureOrderHttp(app: INestApplication): void {
  configureHttp(app, {
    title: 'order-saga: order service',
    description: 'Place orders and follow their saga.',
    // An order is a few hundred bytes; refusing anything past 64 KiB before parsing it keeps a
    // client's mistake (or abuse) from costing memory and CPU.
    bodyLimit: '64kb',
  });
}
