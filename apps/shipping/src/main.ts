import 'reflect-metadata';
import { runService } from '@order-saga/platform';
import { ShippingModule } from './shipping.module.js';

await runService(ShippingModule);
