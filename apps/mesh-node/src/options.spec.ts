import { describe, expect, it } from 'vitest';
import { OptionsError, parseCli, parseNodeOptions } from './options.js';

describe('qpc-node options', () => {
  it('has loopback defaults', () => {
    expect(parseNodeOptions([])).toEqual({
      listen: ['/ip4/127.0.0.1/tcp/4001'],
      bootstrap: [],
      regions: [],
      dataDir: '.data/mesh-node',
      verifiedOnly: false,
      authorities: [],
      server: undefined,
      control: { host: '127.0.0.1', port: 9464 },
      mdns: false,
      dht: true,
    });
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

  it('switches mDNS on, the DHT and the control endpoint off', () => {
    const o = parseNodeOptions(['--mdns', '--no-dht', '--control', 'off', '--listen', '/ip4/127.0.0.1/tcp/0/ws']);
    expect(o).toMatchObject({ mdns: true, dht: false, control: undefined, listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
  });

  it('keeps the control endpoint on loopback', () => {
    expect(parseNodeOptions(['--control', '[::1]:0']).control).toEqual({ host: '::1', port: 0 });
    for (const bad of ['0.0.0.0:9464', '192.168.1.2:9464', '127.0.0.1', '127.0.0.1:70000', 'localhost:1']) {
      expect(() => parseNodeOptions(['--control', bad])).toThrow(/loopback/);
    }
  });

  it('parses commands: start is the default, queries take the control address', () => {
    expect(parseCli([]).command).toBe('start');
    expect(parseCli(['start', '--region', '10'])).toMatchObject({ command: 'start', options: { regions: ['10'] } });
    expect(parseCli(['--region', '10'])).toMatchObject({ command: 'start', options: { regions: ['10'] } });
    expect(parseCli(['status'])).toEqual({ command: 'status', control: { host: '127.0.0.1', port: 9464 } });
    expect(parseCli(['peers', '--control', '127.0.0.1:5000'])).toEqual({ command: 'peers', control: { host: '127.0.0.1', port: 5000 } });
    expect(() => parseCli(['stauts'])).toThrow(/unknown command/);
    expect(() => parseCli(['status', '--region', '10'])).toThrow(OptionsError);
  });
});
