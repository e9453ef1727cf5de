import { describeEngineSaga } from '../orders/engine-saga.cases.js';
import { startDbos } from './dbos-engine.js';

describeEngineSaga('the order saga on DBOS Transact', startDbos);
