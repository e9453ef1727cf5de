import type { INestApplication } from '@nestjs/common';

/** HTTP concerns of the order API (the API helper fills this in). */
export function configureHttp(_app: INestApplication): void {}
