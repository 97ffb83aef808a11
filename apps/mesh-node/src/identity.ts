import { randomBytes } from '@qpc/crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const IDENTITY_FILE = 'identity.seed';
const SAF_FILE = 'saf.bin';

/**
 * The node's 32-byte identity seed (libp2p peer id and mesh signing key derive from it),
 * created on first start. The file is the node's secret: mode 0600, never logged.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<{ seed: Uint8Array; created: boolean }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, IDENTITY_FILE);
  try {
    const seed = new Uint8Array(await readFile(path));
    if (seed.length !== 32) throw new Error(`${path} is not a 32-byte identity seed`);
    return { seed, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const seed = randomBytes(32);
  await writeAtomic(path, seed);
  await chmod(path, 0o600);
  return { seed, created: true };
}

export async function loadSafSnapshot(dataDir: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(join(dataDir, SAF_FILE)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function saveSafSnapshot(dataDir: string, bytes: Uint8Array): Promise<void> {
  await writeAtomic(join(dataDir, SAF_FILE), bytes);
}

// Write then rename, so a crash mid-write never leaves a truncated file behind.
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, bytes, { mode: 0o600 });
  await rename(tmp, path);
}
