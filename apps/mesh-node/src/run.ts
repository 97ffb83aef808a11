import { fromHex } from '@qpc/crypto';
import { createTrustStore } from '@qpc/fapp';
import { createMeshNode, type MeshEvent, type MeshNode } from '@qpc/mesh';
import { ServerBridge, type FetchLike } from './bridge.js';
import { startControlServer, type ControlServer } from './control.js';
import { loadOrCreateIdentity, loadSafSnapshot, saveSafSnapshot } from './identity.js';
import type { NodeOptions } from './options.js';

export type LogLine = Record<string, unknown>;

export interface RunningNode {
  node: MeshNode;
  bridge: ServerBridge | undefined;
  /** The loopback control endpoint, when on. */
  control: ControlServer | undefined;
  /** Saves the store-and-forward queue and stops libp2p. Idempotent. */
  shutdown(): Promise<void>;
}

export interface RunDeps {
  log?: (line: LogLine) => void;
  fetch?: FetchLike;
  now?: () => number;
  heartbeatIntervalMs?: number;
}

/**
 * Mesh events as log lines. Peers appear by peer id only: no IP address or multiaddr is
 * ever logged, so logs do not become a map of which clinic runs where.
 */
function toLogLine(e: MeshEvent): LogLine {
  const { type, ...rest } = e;
  return { event: type, ...rest };
}

/** Starts a node from parsed options: identity and queue from the data directory, optional server bridge. */
export async function runNode(o: NodeOptions, deps: RunDeps = {}): Promise<RunningNode> {
  const log = deps.log ?? ((line: LogLine) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`));
  const { seed, created } = await loadOrCreateIdentity(o.dataDir);
  const safSnapshot = await loadSafSnapshot(o.dataDir);
  const trust = createTrustStore(o.authorities.map((hex, i) => ({ name: `authority-${i + 1}`, publicKey: fromHex(hex) })));
  let bridge: ServerBridge | undefined;
  const node = await createMeshNode({
    identitySeed: seed,
    listen: o.listen,
    bootstrap: o.bootstrap,
    regions: o.regions,
    trust,
    verifiedOnly: o.verifiedOnly,
    mdns: o.mdns,
    dht: o.dht,
    // A daemon heals after a partition: every new connection pulls the peer's announces of our regions.
    syncOnConnect: true,
    ...(safSnapshot ? { safSnapshot } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.heartbeatIntervalMs ? { heartbeatIntervalMs: deps.heartbeatIntervalMs } : {}),
    onEvent: (e) => {
      if (e.type !== 'announce' || e.outcome !== 'duplicate') log(toLogLine(e));
      bridge?.onEvent(e);
    },
  });
  if (o.server) {
    bridge = new ServerBridge({ server: o.server, node, regions: o.regions, log, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    bridge.start();
  }
  let control: ControlServer | undefined;
  try {
    control = o.control ? await startControlServer(node, o.control) : undefined;
  } catch (e) {
    await bridge?.stop();
    await node.stop();
    throw e;
  }
  const saveTimer = setInterval(() => void saveSafSnapshot(o.dataDir, node.saf.snapshot()).catch(() => undefined), 60_000);
  saveTimer.unref();
  log({
    event: 'started',
    peerId: node.peerId.toString(),
    meshAddress: Buffer.from(node.address).toString('hex'),
    identityCreated: created,
    ports: node.multiaddrs().map((m) => Number(/\/(?:tcp|udp)\/(\d+)/.exec(m)?.[1])),
    regions: o.regions,
    bridge: o.server !== undefined,
    controlPort: control?.port ?? null,
    safEnvelopes: node.saf.stats().envelopes,
  });
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      clearInterval(saveTimer);
      await control?.close();
      await bridge?.stop();
      await saveSafSnapshot(o.dataDir, node.saf.snapshot());
      await node.stop();
      log({ event: 'stopped', safEnvelopes: node.saf.stats().envelopes });
    })();
    return stopping;
  };
  return { node, bridge, control, shutdown };
}
