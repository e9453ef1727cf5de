export type { Action, OrderSpec, OutageTarget } from './actions.js';
export { defaultPolicy } from './policy.js';
export {
  realSaga,
  replay,
  shrink,
  simulate,
  type SimulationOptions,
  type SimulationResult,
} from './simulation.js';
export { ddmin } from './shrink.js';
export {
  InvariantViolation,
  realParticipants,
  type ParticipantCode,
  type SagaCode,
  type Setup,
} from './system.js';
