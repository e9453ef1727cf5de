import 'reflect-metadata';
import { runService } from '@order-saga/platform';
import { InventoryModule } from './inventory.module.js';

await runService(InventoryModule);
