import { hostname } from 'node:os';
import { ApiError, QpcClient, type WebSocketFactory } from '@qpc/sdk';
import { FileStore } from '@qpc/sdk/node';
import { WebSocket } from 'ws';
import type { AccountOptions } from './args.js';

export interface Connected {
  client: QpcClient;
  store: FileStore;
  registered: boolean;
}

/**
 * Logs in (or registers on first use) and restores the encrypted local store. A user is new
 * to this data directory when it has no store yet: then registration is tried, and an existing
 * account gets a new device by login instead.
 */
export async function connect(a: AccountOptions): Promise<Connected> {
  const store = FileStore.forUser(a.dataDir, a.user);
  const client = new QpcClient({ baseUrl: a.server, store, WebSocket: WebSocket as unknown as WebSocketFactory });
  const deviceName = `qpc on ${hostname().slice(0, 40)}`;
  let registered = false;
  if ((await store.list()).length === 0) {
    try {
      await client.register(a.user, a.password, deviceName);
      registered = true;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'accounts.username_taken')) throw e;
      await client.login(a.user, a.password, undefined, deviceName);
    }
  } else {
    await client.login(a.user, a.password, undefined, deviceName);
  }
  await client.replenishKeyPackages();
  return { client, store, registered };
}
