import 'reflect-metadata';
import { runService } from '@order-saga/platform';
import { PaymentModule } from './payment.module.js';

await runService(PaymentModule);
