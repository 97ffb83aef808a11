import { describe, expect, it } from 'vitest';
import { prometheusMetrics } from './metrics.js';
import type { MeshNodeStats } from './node.js';

const stats: MeshNodeStats = {
  peers: 3,
  topics: ['/qpc/fapp/1/plz/10'],
  announces: 7,
  saf: { recipients: 1, envelopes: 2, bytes: 900 },
  counters: { accepted: 7, duplicate: 4, rejected: 1 },
  routes: 5,
  envelopes: { delivered: 1, forwarded: 6, stored: 2, dropped: { duplicate: 3, 'hop-limit': 1, expired: 0, 'bad-signature': 0, malformed: 0, 'no-route': 0, 'queue-full': 0 } },
  gossipReceived: { '/qpc/fapp/1/plz/10': 12 },
  channels: { joined: 1, relayed: 0 },
};

describe('prometheusMetrics', () => {
  it('writes every figure in the text exposition format', () => {
    const text = prometheusMetrics(stats);
    expect(text).toContain('# TYPE qpc_mesh_peers gauge\nqpc_mesh_peers 3\n');
    expect(text).toContain('qpc_mesh_announces_stored 7\n');
    expect(text).toContain('qpc_mesh_announces_total{outcome="rejected"} 1\n');
    expect(text).toContain('qpc_mesh_saf_queue_envelopes 2\n');
    expect(text).toContain('qpc_mesh_envelopes_forwarded_total 6\n');
    expect(text).toContain('qpc_mesh_envelopes_dropped_total{reason="duplicate"} 3\n');
    expect(text).toContain('qpc_mesh_envelopes_dropped_total{reason="hop-limit"} 1\n');
    expect(text).toContain('qpc_mesh_gossip_received_total{topic="/qpc/fapp/1/plz/10"} 12\n');
    expect(text.endsWith('\n')).toBe(true);
    // Every sample line is `name{labels} number`.
    for (const line of text.trim().split('\n').filter((l) => !l.startsWith('#'))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? \d+$/);
  });
});
