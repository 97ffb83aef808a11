import { meshAddressOfPeer, PROMETHEUS_CONTENT_TYPE, prometheusMetrics, type MeshNode } from '@qpc/mesh';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControlAddress } from './options.js';

/**
 * The node's local control endpoint: plain HTTP on a loopback address only, read-only.
 * Peers are named by peer id and transport, never by IP address or multiaddr.
 *
 *   GET /status     node id, mesh address, peers, topics, store and queue sizes, counters
 *   GET /peers      connected peers: peer id, mesh address, direction, transport, route hops
 *   GET /announces  current FAPP announces: therapist id, PLZ, sequence, verified, expiry
 *   GET /metrics    Prometheus text format
 */
export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

export function statusOf(node: MeshNode): Record<string, unknown> {
  const s = node.stats();
  return { peerId: node.peerId.toString(), meshAddress: node.addressHex, ...s };
}

export function peersOf(node: MeshNode): { peerId: string; meshAddress: string | null; direction: string; transport: string; routeHops: number | null }[] {
  return node.libp2p.getConnections().map((c) => {
    const addr = meshAddressOfPeer(c.remotePeer) ?? null;
    const protos = c.remoteAddr.getComponents().map((p) => p.name);
    return {
      peerId: c.remotePeer.toString(),
      meshAddress: addr,
      direction: c.direction,
      transport: protos.includes('ws') || protos.includes('wss') ? 'websockets' : protos.includes('tcp') ? 'tcp' : protos.includes('quic-v1') ? 'quic' : 'other',
      routeHops: addr ? (node.routeTo(addr)?.hops ?? null) : null,
    };
  });
}

export function announcesOf(node: MeshNode): { therapistId: string; plz: string; sequence: number; verified: boolean; expiresAt: string }[] {
  return node.announces().map((r) => ({ therapistId: r.therapistId, plz: r.announce.plz, sequence: r.sequence, verified: r.verified, expiresAt: new Date(r.expiresAtMs).toISOString() }));
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

function problem(res: ServerResponse, status: number, code: string, title: string): void {
  send(res, status, 'application/problem+json', JSON.stringify({ type: 'about:blank', title, status, code }));
}

export async function startControlServer(node: MeshNode, at: ControlAddress): Promise<ControlServer> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') return problem(res, 405, 'METHOD_NOT_ALLOWED', 'only GET');
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/status':
        return send(res, 200, 'application/json', JSON.stringify(statusOf(node)));
      case '/peers':
        return send(res, 200, 'application/json', JSON.stringify({ peers: peersOf(node) }));
      case '/announces':
        return send(res, 200, 'application/json', JSON.stringify({ announces: announcesOf(node) }));
      case '/metrics':
        return send(res, 200, PROMETHEUS_CONTENT_TYPE, prometheusMetrics(node.stats()));
      default:
        return problem(res, 404, 'NOT_FOUND', 'no such endpoint');
    }
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
