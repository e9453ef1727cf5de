import * as restate from '@restatedev/restate-sdk';
import type pg from 'pg';
import { runOrderSaga } from '../orders/order-saga.js';
import type { PeerOrder, SagaEnd } from '../orders/order-steps.js';

/**
 * The order saga as a Restate workflow keyed by the order id: the server runs `run` at most once
 * per key, and journals each `ctx.run` result before the handler goes on, so a retried invocation
 * replays the journal instead of repeating a step. A step that throws is retried by the server
 * (a database outage is waited out); a refusal is the step's answer, not an error.
 */
export const orderSagaWorkflow = (db: pg.Pool) =>
  restate.workflow({
    name: 'OrderSaga',
    handlers: {
      run: (ctx: restate.WorkflowContext, order: PeerOrder): Promise<SagaEnd> =>
        runOrderSaga(db, order, (name, work) => ctx.run(name, work)),
    },
  });
