import type { MeshNodeStats } from './node.js';

/** Prometheus text exposition (format 0.0.4) content type. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Sample = [labels: Record<string, string>, value: number];

function family(name: string, type: 'gauge' | 'counter', help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
  }
  return lines.join('\n');
}

/**
 * A node's figures in Prometheus text format. Labels carry no peer ids or addresses: only
 * outcomes, reasons and topic names (PLZ regions and channel ids are public topic names).
 */
export function prometheusMetrics(s: MeshNodeStats): string {
  return (
    [
      family('qpc_mesh_peers', 'gauge', 'Connected libp2p peers.', [[{}, s.peers]]),
      family('qpc_mesh_routes', 'gauge', 'Live routes in the routing table.', [[{}, s.routes]]),
      family('qpc_mesh_announces_stored', 'gauge', 'Current FAPP announces in the store.', [[{}, s.announces]]),
      family(
        'qpc_mesh_announces_total',
        'counter',
        'FAPP announces ingested, by outcome.',
        (['accepted', 'duplicate', 'rejected'] as const).map((o) => [{ outcome: o }, s.counters[o]]),
      ),
      family('qpc_mesh_saf_queue_envelopes', 'gauge', 'Envelopes waiting in the store-and-forward queue.', [[{}, s.saf.envelopes]]),
      family('qpc_mesh_saf_queue_bytes', 'gauge', 'Bytes waiting in the store-and-forward queue.', [[{}, s.saf.bytes]]),
      family('qpc_mesh_saf_queue_recipients', 'gauge', 'Recipients with waiting envelopes.', [[{}, s.saf.recipients]]),
      family('qpc_mesh_envelopes_delivered_total', 'counter', 'Envelopes delivered to this node.', [[{}, s.envelopes.delivered]]),
      family('qpc_mesh_envelopes_forwarded_total', 'counter', 'Envelopes handed to a next hop.', [[{}, s.envelopes.forwarded]]),
      family('qpc_mesh_envelopes_stored_total', 'counter', 'Envelopes kept for a recipient without a route.', [[{}, s.envelopes.stored]]),
      family(
        'qpc_mesh_envelopes_dropped_total',
        'counter',
        'Envelopes dropped, by reason.',
        Object.entries(s.envelopes.dropped).map(([reason, n]) => [{ reason }, n]),
      ),
      family(
        'qpc_mesh_gossip_received_total',
        'counter',
        'Gossipsub message copies received (first copies and duplicates), by topic.',
        Object.entries(s.gossipReceived)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([topic, n]) => [{ topic }, n]),
      ),
      family('qpc_mesh_channels', 'gauge', 'Broadcast channels joined as member or relayed.', [
        [{ role: 'member' }, s.channels.joined],
        [{ role: 'relay' }, s.channels.relayed],
      ]),
    ].join('\n') + '\n'
  );
}
