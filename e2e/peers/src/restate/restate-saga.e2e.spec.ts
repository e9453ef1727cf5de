import { describeEngineSaga } from '../orders/engine-saga.cases.js';
import { startRestate } from './restate-engine.js';

describeEngineSaga('the order saga on Restate', startRestate);
