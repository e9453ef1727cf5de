import 'reflect-metadata';
import { runService } from '@order-saga/platform';
import { configureOrderHttp } from './order-http.js';
import { OrderModule } from './order.module.js';

await runService(OrderModule, configureOrderHttp);
