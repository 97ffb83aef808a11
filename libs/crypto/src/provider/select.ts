// Browser / default build: the pure-JS provider. Node resolves `#provider` to select.node.ts.
import { nobleProvider } from './noble.js';
import type { CryptoProvider } from './types.js';

export const provider: CryptoProvider = nobleProvider;
