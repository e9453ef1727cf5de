import { DBOS } from '@dbos-inc/dbos-sdk';
import type pg from 'pg';
import { runOrderSaga } from '../orders/order-saga.js';
import type { PeerOrder, SagaEnd } from '../orders/order-steps.js';

/**
 * The order saga as a DBOS workflow. DBOS runs it in this process and checkpoints each
 * `DBOS.runStep` in its system database; after a crash it replays the workflow from its recorded
 * input and skips the steps already checkpointed. A step here is a node-postgres transaction and
 * its checkpoint a second one: DBOS's transaction steps, which would share one, are not on the
 * registry for SDK 5. Register before `DBOS.launch()`: recovery finds workflows by this name.
 */
export function registerOrderSaga(db: pg.Pool): (order: PeerOrder) => Promise<SagaEnd> {
  return DBOS.registerWorkflow(
    (order: PeerOrder) => runOrderSaga(db, order, (name, work) => DBOS.runStep(work, { name })),
    { name: 'orderSaga' },
  );
}
