export * from './options.js';
export * from './identity.js';
export * from './bridge.js';
export * from './run.js';
