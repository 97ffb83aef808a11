export * from './options.js';
export * from './identity.js';
export * from './bridge.js';
export * from './run.js';
export * from './control.js';
export * from './control-client.js';
