export * from './errors.js';
export * from './topics.js';
export * from './envelope.js';
export * from './saf-queue.js';
export * from './routing.js';
export * from './lora.js';
export * from './sim-clock.js';
export * from './transport.js';
