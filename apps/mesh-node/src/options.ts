import { parseArgs } from 'node:util';

export interface NodeOptions {
  /** TCP listen address for libp2p, e.g. /ip4/127.0.0.1/tcp/4001 */
  listen: string[];
  /** Multiaddrs of peers to dial at start. */
  bootstrap: string[];
  /** PLZ regions (2-digit Leitregionen) whose FAPP announces this node carries. */
  regions: string[];
  /** Directory for the node's identity key and store-and-forward queue. */
  dataDir: string;
  /** Drop announces without a licence attestation from a trusted authority. */
  verifiedOnly: boolean;
  /** Ed25519 public keys (hex) of licensing authorities whose attestations count as verified. */
  authorities: string[];
  /** Base URL of a quicprochat server to bridge announces with, e.g. http://127.0.0.1:3000 */
  server: string | undefined;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

const USAGE = `usage: qpc-node [--listen MULTIADDR]... [--bootstrap MULTIADDR]... [--region NN]... [--data-dir DIR] [--verified-only] [--authority HEX]... [--server URL]`;

/** Parses qpc-node's command line; bad input is an OptionsError that says what is wrong. */
export function parseNodeOptions(argv: string[]): NodeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        listen: { type: 'string', multiple: true, default: ['/ip4/127.0.0.1/tcp/4001'] },
        bootstrap: { type: 'string', multiple: true, default: [] },
        region: { type: 'string', multiple: true, default: [] },
        'data-dir': { type: 'string', default: '.data/mesh-node' },
        'verified-only': { type: 'boolean', default: false },
        authority: { type: 'string', multiple: true, default: [] },
        server: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new OptionsError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const v = parsed.values;
  for (const addr of [...v.listen, ...v.bootstrap]) {
    if (!addr.startsWith('/')) throw new OptionsError(`not a multiaddr: ${JSON.stringify(addr)}\n${USAGE}`);
  }
  for (const r of v.region) {
    if (!/^\d{2}$/.test(r)) throw new OptionsError(`--region takes a 2-digit PLZ region, got ${JSON.stringify(r)}\n${USAGE}`);
  }
  for (const a of v.authority) {
    if (!/^[0-9a-f]{64}$/.test(a)) throw new OptionsError(`--authority takes a 32-byte Ed25519 public key in hex, got ${JSON.stringify(a)}\n${USAGE}`);
  }
  let server: string | undefined;
  if (v.server !== undefined) {
    let u: URL;
    try {
      u = new URL(v.server);
    } catch {
      throw new OptionsError(`--server is not a URL: ${JSON.stringify(v.server)}\n${USAGE}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new OptionsError(`--server must be http(s)\n${USAGE}`);
    server = u.origin;
  }
  return { listen: v.listen, bootstrap: v.bootstrap, regions: v.region, dataDir: v['data-dir'], verifiedOnly: v['verified-only'], authorities: v.authority, server };
}
