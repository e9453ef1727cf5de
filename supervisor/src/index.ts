export * from './backoff.js';
export * from './supervisor.js';
export * from './control-server.js';
export * from './admin-token.js';
