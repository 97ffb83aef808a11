export * from './errors.js';
export * from './http.js';
export * from './verify.js';
export * from './envelope.js';
export * from './store.js';
export * from './store.indexeddb.js';
export * from './client.js';
export * from './socket-sender.js';
