import { AppMeta } from './app-meta.entity.js';

/** Every entity, listed once: the app, the migration CLI and the tests share it. */
export const entities = [AppMeta];
