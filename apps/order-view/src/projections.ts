import { orderSummary } from './order-summary/order-summary.projection.js';

/** The projections order-view keeps live; a new one added here back-fills from history on first start. */
export const projections = [orderSummary] as const;
