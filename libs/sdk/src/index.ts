export * from './errors.js';
export * from './http.js';
export * from './verify.js';
export * from './client.js';
