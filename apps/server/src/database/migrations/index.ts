import { Init1764086400000 } from './1764086400000-Init.js';

/** Every migration, in order. New migrations are appended here. */
export const migrations = [Init1764086400000];
