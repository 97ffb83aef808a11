import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { fromHex, generateSigningKeyPair, type SigningKeyPair, signingKeyPairFromSeed, toHex } from '@qpc/crypto';
import type { ServerConfig } from '../config/config.js';

/**
 * The messenger's long-lived secrets: the OPAQUE server setup (changing it invalidates every
 * password record) and the Ed25519 key that signs delivery receipts and KT tree heads.
 */
export class ServerSecrets {
  constructor(
    readonly opaqueSetup: string,
    readonly signing: SigningKeyPair,
  ) {}

  /**
   * From the config; production requires both (loadConfig enforces it). Development generates
   * them once and keeps them in DATA_DIR/secrets.json so passwords survive restarts; tests
   * keep them in memory.
   */
  static async load(config: ServerConfig): Promise<ServerSecrets> {
    await opaque.ready;
    let setup = config.OPAQUE_SERVER_SETUP;
    let seed = config.SERVER_SIGNING_KEY;
    if ((!setup || !seed) && config.NODE_ENV === 'development') {
      const file = join(config.DATA_DIR, 'secrets.json');
      let stored: { opaqueServerSetup?: string; serverSigningKey?: string } = {};
      try {
        stored = JSON.parse(readFileSync(file, 'utf8')) as typeof stored;
      } catch {
        // first start: generated below
      }
      stored.opaqueServerSetup ??= opaque.server.createSetup();
      stored.serverSigningKey ??= toHex(generateSigningKeyPair().secretKey);
      mkdirSync(config.DATA_DIR, { recursive: true });
      writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
      setup ??= stored.opaqueServerSetup;
      seed ??= stored.serverSigningKey;
    }
    setup ??= opaque.server.createSetup();
    const signing = seed ? signingKeyPairFromSeed(fromHex(seed.toLowerCase())) : generateSigningKeyPair();
    return new ServerSecrets(setup, signing);
  }
}
