// Node build: the native provider (package.json `imports` maps `#provider` here under `node`).
import { nodeProvider } from './node.node.js';
import type { CryptoProvider } from './types.js';

export const provider: CryptoProvider = nodeProvider;
