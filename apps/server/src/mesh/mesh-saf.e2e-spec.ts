import { Writable } from 'node:stream';
import { generateSigningKeyPair, meshAddress, sha256, toHex, utf8 } from '@qpc/crypto';
import { createMeshEnvelope } from '@qpc/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../test/db.js';
import { createApp } from '../app.js';
import { createLogger } from '../common/logger.js';
import { loadConfig } from '../config/config.js';
import { openDataSource } from '../database/data-source.js';
import { MeshBridgeService } from './mesh-bridge.service.js';

// The store-and-forward queue of the server's in-process mesh node outlives a restart of the
// server: saved at shutdown (and while running), restored at the next start on the same database.

let db: TestDatabase;
const logs: string[] = [];

async function start() {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DB_POOL_SIZE: '4',
    MESH_ENABLED: 'true',
    MESH_REGIONS: '10',
    SERVER_SIGNING_KEY: toHex(sha256(utf8('mesh-saf-e2e/server'))),
  });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const { app } = await createApp({ config, databaseUrl: db.url, logger: createLogger(config.LOG_LEVEL, sink) });
  const node = app.get(MeshBridgeService).node;
  if (!node) throw new Error('the mesh node did not start');
  return { app, node };
}

beforeAll(async () => {
  db = await testDatabase();
});

afterAll(async () => {
  await db?.close();
});

describe('the server mesh node across a restart', () => {
  it('keeps envelopes queued for an absent recipient, and starts with an empty queue if the saved one is unreadable', async () => {
    const recipient = meshAddress(generateSigningKeyPair().publicKey);
    const envelope = createMeshEnvelope({ sender: generateSigningKeyPair(), recipient, payload: utf8('sealed elsewhere'), nowMs: Date.now(), ttlMs: 3600_000 });

    const first = await start();
    expect(await first.node.send(envelope)).toEqual({ kind: 'stored' });
    const address = first.node.addressHex;
    await first.app.close();

    const second = await start();
    try {
      expect(second.node.addressHex).toBe(address);
      const queued = second.node.saf.pending(toHex(recipient), Date.now());
      expect(queued.map((e) => toHex(e.bytes))).toEqual([toHex(envelope)]);
    } finally {
      await second.app.close();
    }

    // Damaged while the server is down: the next start logs it and begins with an empty queue.
    const raw = await openDataSource(db.url, 1);
    await raw.query(`UPDATE mesh_saf_snapshot SET snapshot = '\\x0a0b0c' WHERE node_address = $1`, [address]);
    await raw.destroy();
    const third = await start();
    try {
      expect(third.node.saf.stats().envelopes).toBe(0);
      expect(logs.join('')).toContain('mesh_saf_snapshot_unreadable');
    } finally {
      await third.app.close();
    }
  });
});
