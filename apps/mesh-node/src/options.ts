import { parseArgs } from 'node:util';

export interface NodeOptions {
  /** libp2p listen addresses: TCP (/ip4/127.0.0.1/tcp/4001), WebSockets (…/tcp/N/ws), QUIC (…/udp/N/quic-v1) */
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
  /** Loopback HTTP control endpoint (status, peers, announces, metrics), or undefined when off. */
  control: ControlAddress | undefined;
  /** mDNS discovery on the local network (off unless --mdns). */
  mdns: boolean;
  /** Kademlia DHT (on unless --no-dht). */
  dht: boolean;
}

export interface ControlAddress {
  host: '127.0.0.1' | '::1';
  port: number;
}

export const DEFAULT_CONTROL = '127.0.0.1:9464';

export type CliCommand = { command: 'start'; options: NodeOptions } | { command: 'status' | 'peers' | 'announces' | 'metrics'; control: ControlAddress };

const QUERY_COMMANDS = ['status', 'peers', 'announces', 'metrics'] as const;

export class OptionsError extends Error {
  override name = 'OptionsError';
}

const USAGE = `usage: qpc-node [start] [--listen MULTIADDR]... [--bootstrap MULTIADDR]... [--region NN]... [--data-dir DIR] [--verified-only] [--authority HEX]... [--server URL] [--control HOST:PORT|off] [--mdns] [--no-dht]
       qpc-node status|peers|announces|metrics [--control HOST:PORT]`;

/** HOST:PORT of the control endpoint; only loopback hosts, port 0..65535 (0 = any free port). */
export function parseControl(v: string): ControlAddress {
  const m = /^(127\.0\.0\.1|\[::1\]):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new OptionsError(`--control takes 127.0.0.1:PORT or [::1]:PORT (loopback only), got ${JSON.stringify(v)}\n${USAGE}`);
  return { host: m[1] === '[::1]' ? '::1' : '127.0.0.1', port };
}

/** Parses the whole command line: `start` (the default) or one of the query commands. */
export function parseCli(argv: string[]): CliCommand {
  const [first, ...rest] = argv;
  if (first === 'start') return { command: 'start', options: parseNodeOptions(rest) };
  const query = QUERY_COMMANDS.find((c) => c === first);
  if (!query) {
    if (first !== undefined && !first.startsWith('-')) throw new OptionsError(`unknown command ${JSON.stringify(first)}\n${USAGE}`);
    return { command: 'start', options: parseNodeOptions(argv) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { control: { type: 'string', default: DEFAULT_CONTROL } }, strict: true, allowPositionals: false });
  } catch (e) {
    throw new OptionsError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  return { command: query, control: parseControl(parsed.values.control) };
}

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
        control: { type: 'string', default: DEFAULT_CONTROL },
        mdns: { type: 'boolean', default: false },
        'no-dht': { type: 'boolean', default: false },
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
  const control = v.control === 'off' ? undefined : parseControl(v.control);
  return {
    listen: v.listen,
    bootstrap: v.bootstrap,
    regions: v.region,
    dataDir: v['data-dir'],
    verifiedOnly: v['verified-only'],
    authorities: v.authority,
    server,
    control,
    mdns: v.mdns,
    dht: !v['no-dht'],
  };
}
