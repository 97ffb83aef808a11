import { describe, expect, it } from 'vitest';
import { OptionsError, parseNodeOptions } from './options.js';

describe('qpc-node options', () => {
  it('has loopback defaults', () => {
    expect(parseNodeOptions([])).toEqual({ listen: ['/ip4/127.0.0.1/tcp/4001'], bootstrap: [], regions: [], dataDir: '.data/mesh-node', verifiedOnly: false, authorities: [], server: undefined });
  });

  it('reads repeated flags', () => {
    const o = parseNodeOptions(['--region', '10', '--region', '80', '--bootstrap', '/ip4/127.0.0.1/tcp/4002', '--verified-only']);
    expect(o.regions).toEqual(['10', '80']);
    expect(o.bootstrap).toEqual(['/ip4/127.0.0.1/tcp/4002']);
    expect(o.verifiedOnly).toBe(true);
  });

  it('rejects unknown flags, bad regions and non-multiaddrs with usage', () => {
    expect(() => parseNodeOptions(['--nope'])).toThrow(OptionsError);
    expect(() => parseNodeOptions(['--region', '1'])).toThrow(/2-digit/);
    expect(() => parseNodeOptions(['--bootstrap', 'example:4001'])).toThrow(/usage: qpc-node/);
    expect(() => parseNodeOptions(['--authority', 'abc'])).toThrow(/Ed25519/);
    expect(() => parseNodeOptions(['--server', 'ftp://x'])).toThrow(/http/);
    expect(parseNodeOptions(['--server', 'http://127.0.0.1:3000/ignored']).server).toBe('http://127.0.0.1:3000');
  });
});
