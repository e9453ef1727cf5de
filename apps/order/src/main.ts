import 'reflect-metadata';
import { runService } from '@order-saga/platform';
import { configureHttp } from './http/configure-http.js';
import { OrderModule } from './order.module.js';

await runService(OrderModule, configureHttp);
