import type { ControlAddress } from './options.js';

// Kept apart from the node (no libp2p imports), so `qpc-node status` starts quickly.

interface PeerLine {
  peerId: string;
  direction: string;
  transport: string;
  routeHops: number | null;
}

/** The client side of `qpc-node status|peers|announces|metrics`: the endpoint's answer as text to print. */
export async function queryControl(command: 'status' | 'peers' | 'announces' | 'metrics', at: ControlAddress, fetchFn: typeof fetch = fetch): Promise<string> {
  const host = at.host === '::1' ? '[::1]' : at.host;
  const res = await fetchFn(`http://${host}:${at.port}/${command}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`control endpoint answered ${res.status}`);
  if (command === 'metrics') return res.text();
  const body = (await res.json()) as Record<string, unknown>;
  if (command === 'peers') {
    const peers = body.peers as PeerLine[];
    return peers.map((p) => `${p.peerId} ${p.direction} ${p.transport} ${p.routeHops === null ? '-' : `${p.routeHops} hop${p.routeHops === 1 ? '' : 's'}`}`).join('\n') + (peers.length ? '\n' : '');
  }
  return `${JSON.stringify(body, null, 2)}\n`;
}
